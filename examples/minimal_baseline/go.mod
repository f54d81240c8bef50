module minimalbaseline

go 1.25.0

require github.com/aws/aws-lambda-go v1.54.0
