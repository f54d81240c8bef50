package xray

import "sb/tracing"

// X-Ray origins the breakdown knows. Categories follow the ServiBench
// study's mapping.
const (
	originAPIGateway     = "AWS::ApiGateway::Stage"
	originLambda         = "AWS::Lambda"
	originLambdaFunction = "AWS::Lambda::Function"
)

func categoryForOrigin(origin []byte) tracing.Category {
	switch string(origin) {
	case originAPIGateway, "AWS::StepFunctions::StateMachine", "AWS::stepfunctions", "AWS::STEPFUNCTIONS", originLambda:
		return tracing.Orchestration
	case originLambdaFunction:
		return tracing.Computation
	case "AWS::S3::Bucket", "AWS::S3", "AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::SNS",
		"Database::SQL", "AWS::Kinesis", "AWS::rekognition":
		return tracing.ExternalService
	}
	return tracing.Unclassified
}

// categoryForFunctionPart maps the subsegments Lambda adds under a function
// segment.
func categoryForFunctionPart(s *tracing.Span) tracing.Category {
	if !s.HasName {
		return tracing.Unclassified
	}
	switch string(s.Name) {
	case "Overhead":
		return tracing.Overhead
	case "Invocation":
		return tracing.Computation
	case "Initialization":
		return tracing.RuntimeInitialization
	case "Dwell Time":
		return tracing.Queuing
	}
	return tracing.Unclassified
}

func isInitialization(s *tracing.Span) bool {
	return s.HasName && string(s.Name) == "Initialization"
}

func hasOrigin(s *tracing.Span, origin string) bool {
	return s.HasService && string(s.Service) == origin
}

// rules implements tracing.Rules for X-Ray and collects the row's facts
// (services, URL, error flags) while the core visits the spans.
type rules struct {
	docs []segDoc
	row  tracing.Row
}

func (r *rules) reset(docs []segDoc) {
	r.docs = docs
	clear(r.row.Services)
	r.row = tracing.Row{Services: r.row.Services[:0]}
}

func (r *rules) Visit(g *tracing.Graph, i int32) error {
	s := &g.Spans[i]
	d := &r.docs[s.Doc]
	if s.HasService {
		r.row.Services = append(r.row.Services, s.Service)
		if string(s.Service) == originAPIGateway {
			if !d.hasURL {
				return &tracing.Invalid{Msg: "Segment " + string(s.ID) + " of origin " + originAPIGateway + " has no http.request.url."}
			}
			r.row.URL = d.url
		}
	}
	if d.errorFlag {
		r.row.Errors++
	}
	if d.fault {
		r.row.Faults++
	}
	if d.throttle {
		r.row.Throttles++
	}
	return nil
}

func (r *rules) Category(g *tracing.Graph, i int32) (tracing.Category, error) {
	for steps := 0; steps <= len(g.Spans); steps++ {
		s := &g.Spans[i]
		if s.HasService {
			return categoryForOrigin(s.Service), nil
		}
		p := g.Parent(i)
		if p < 0 {
			return 0, &tracing.Invalid{} // the reference failed without message
		}
		ps := &g.Spans[p]
		if hasOrigin(ps, originLambdaFunction) {
			return categoryForFunctionPart(s), nil
		}
		if hasOrigin(ps, originLambda) && s.HasName && string(s.Name) == "Dwell Time" {
			return tracing.Queuing, nil
		}
		i = p
	}
	return 0, &tracing.Invalid{Msg: "Detected infinite loop starting from node " + string(g.Spans[i].ID)}
}

// AlwaysSync: Lambda invokes a function synchronously under its service
// segment, even when clock skew makes the function end after it.
func (r *rules) AlwaysSync(g *tracing.Graph, child int32) bool {
	return hasOrigin(&g.Spans[child], originLambdaFunction)
}

// ColdStartInit: a cold-started function segment has an Initialization
// subsegment.
func (r *rules) ColdStartInit(g *tracing.Graph, i int32) int32 {
	if !hasOrigin(&g.Spans[i], originLambdaFunction) {
		return -1
	}
	return g.FirstChild(i, isInitialization)
}

func (r *rules) IsInitialization(s *tracing.Span) bool { return isInitialization(s) }
