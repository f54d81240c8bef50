package dockerenv

import (
	"os"
	"strings"
)

// ImageAlias is one row of the alias table: a short name a benchmark may
// use as spec.run's image, and the pinned image it stands for.
type ImageAlias struct {
	Name  string // e.g. "aws_cli", "node20.x", "default"
	Image string // pinned reference, e.g. "amazon/aws-cli:2.32.2"
	About string // what the image is for, for the README
}

// DefaultAlias is the alias spec.run and sb shell use when no image is given.
const DefaultAlias = "default"

// ImageAliases is the single table of image aliases, pinned to explicit
// tags so that a benchmark runs with the same tools next year. Language
// runtime names follow the AWS Lambda runtime identifiers (as ServiBench
// did). Override an entry per benchmark with `images:` in BENCHMARK_CONFIG or
// globally with SB_IMAGE_<ALIAS> (see ResolveImage).
var ImageAliases = []ImageAlias{
	{DefaultAlias, "alpine:3.22", "spec.run and sb shell without image"},
	{"aws_cli", "amazon/aws-cli:2.32.2", "AWS CLI v2 (sb login aws)"},
	{"azure_cli", "mcr.microsoft.com/azure-cli:2.79.0", "Azure CLI (sb login azure)"},
	{"google_cli", "gcr.io/google.com/cloudsdktool/google-cloud-cli:545.0.0-stable", "Google Cloud CLI (sb login google)"},
	// IBM publishes no maintained stand-alone CLI image; this is the last
	// one ServiBench used. Point SB_IMAGE_IBM_CLI at a newer one if needed.
	{"ibm_cli", "ibmcom/ibm-cloud-developer-tools-amd64:1.3.0", "IBM Cloud CLI (sb login ibm)"},
	{"pulumi_cli", "pulumi/pulumi:3.190.0", "Pulumi CLI with all language SDKs (sb login pulumi)"},
	{"serverless_cli", "amaysim/serverless:3.38.0", "Serverless Framework v3"},
	{"k6", "grafana/k6:1.8.1", "k6 load generator (same version as the embedded one)"},
	{"node20.x", "node:20.19.5-bookworm-slim", "Node.js 20"},
	{"node22.x", "node:22.20.0-bookworm-slim", "Node.js 22"},
	{"node24.x", "node:24.11.0-bookworm-slim", "Node.js 24"},
	{"python3.12", "python:3.12.12-slim-bookworm", "Python 3.12"},
	{"python3.13", "python:3.13.9-slim-bookworm", "Python 3.13"},
	{"go1.x", "golang:1.25.4-bookworm", "Go"},
	{"java21", "eclipse-temurin:21.0.8_9-jdk", "Java 21 (Temurin JDK)"},
}

// AliasImage returns the pinned image of alias from the table, and whether
// the alias exists. Overrides are not applied; see ResolveImage.
func AliasImage(alias string) (string, bool) {
	for _, a := range ImageAliases {
		if a.Name == alias {
			return a.Image, true
		}
	}
	return "", false
}

// ImageEnvVar returns the environment variable that overrides alias:
// SB_IMAGE_ followed by the alias upper-cased, with every character other
// than A-Z and 0-9 replaced by '_' (node20.x → SB_IMAGE_NODE20_X).
func ImageEnvVar(alias string) string {
	var b strings.Builder
	b.WriteString("SB_IMAGE_")
	for _, r := range strings.ToUpper(alias) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// ResolveImage turns spec.run's image argument into an image reference.
// An empty name means the default alias. Precedence, highest first:
//  1. the environment variable ImageEnvVar(name), set by whoever runs sb now;
//  2. overrides[name], the benchmark's `images:` mapping;
//  3. the alias table;
//  4. the name itself, taken as an image reference (e.g. "maven:3.9-eclipse-temurin-21").
//
// Environment and benchmark overrides apply to any name, not only to table
// aliases, so a benchmark may introduce its own aliases in `images:`.
func ResolveImage(name string, overrides map[string]string) string {
	if name == "" {
		name = DefaultAlias
	}
	if v := os.Getenv(ImageEnvVar(name)); v != "" {
		return v
	}
	if v := overrides[name]; v != "" {
		return v
	}
	if v, ok := AliasImage(name); ok {
		return v
	}
	return name
}
