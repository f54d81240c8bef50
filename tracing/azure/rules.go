package azure

import (
	"strconv"
	"strings"

	"sb/tracing"
)

// externalTypes are DependencyType fragments of calls to services outside
// the function app: Azure Storage (blob, table, queue), Service Bus, Event
// Hubs, Cosmos DB and databases, as the Application Insights SDKs and the
// Azure SDKs name them (compared case-insensitively).
var externalTypes = []string{
	"azure blob", "azure table", "azure queue", "storage", "queue message",
	"service bus", "servicebus", "event hub", "eventhub",
	"documentdb", "cosmos", "sql", "redis", "mongodb", "mysql", "postgres",
}

// Service tags of spans in the services column.
const (
	serviceRequest    = "Request"
	serviceDependency = "Dependency"
	serviceDurable    = "DurableTask"
)

// rules implements tracing.Rules for Application Insights and collects the
// row's facts (services, URL, error flags) while the core visits the spans.
type rules struct {
	spans []span
	row   tracing.Row
}

func (r *rules) reset(spans []span) {
	r.spans = spans
	clear(r.row.Services)
	r.row = tracing.Row{Services: r.row.Services[:0]}
}

func (r *rules) info(g *tracing.Graph, i int32) *span { return &r.spans[g.Spans[i].Doc] }

func (r *rules) Visit(g *tracing.Graph, i int32) error {
	s := r.info(g, i)
	switch s.kind {
	case kindRequest:
		if s.durable != durableNone {
			r.row.Services = append(r.row.Services, []byte(serviceDurable))
		} else {
			r.row.Services = append(r.row.Services, []byte(serviceRequest))
		}
		if r.row.URL == nil {
			if u := s.row.str(colURL); u != "" {
				r.row.URL = []byte(u)
			}
		}
	case kindDependency:
		switch {
		case s.durable != durableNone:
			r.row.Services = append(r.row.Services, []byte(serviceDurable))
		case s.depType != "":
			r.row.Services = append(r.row.Services, []byte(s.depType))
		default:
			r.row.Services = append(r.row.Services, []byte(serviceDependency))
		}
	default:
		return nil
	}
	// Errors, throttles and faults follow X-Ray's meaning: a failed call
	// with a 4xx result is an error, 429 also a throttle, anything else
	// that failed (5xx, an exception) a fault.
	if ok, known := s.row.success(); known && !ok {
		code, err := strconv.Atoi(strings.TrimSpace(s.row.str(colResult)))
		switch {
		case err == nil && code == 429:
			r.row.Errors++
			r.row.Throttles++
		case err == nil && code >= 400 && code < 500:
			r.row.Errors++
		default:
			r.row.Faults++
		}
	}
	return nil
}

func (r *rules) Category(g *tracing.Graph, i int32) (tracing.Category, error) {
	for steps := 0; steps <= len(g.Spans); steps++ {
		s := r.info(g, i)
		switch s.kind {
		case kindTrigger:
			return tracing.Trigger, nil
		case kindInit:
			return tracing.RuntimeInitialization, nil
		case kindOperation:
			// The operation's own (zero-length) entries count as its
			// first request's, so that they add no column of their own.
			c := g.FirstChild(i, func(*tracing.Span) bool { return true })
			if c < 0 {
				return tracing.Computation, nil
			}
			i = c
			continue
		case kindRequest:
			if s.durable == durableOrchestration {
				return tracing.Orchestration, nil
			}
			return tracing.Computation, nil
		}
		// Dependencies.
		if s.durable != durableNone {
			return tracing.Orchestration, nil
		}
		t := strings.ToLower(s.depType)
		switch {
		case strings.HasPrefix(t, "http"):
			if s.childRequest {
				// A call into the app itself: the HTTP hop is how the
				// next function is triggered.
				return tracing.Trigger, nil
			}
			return tracing.ExternalService, nil
		case containsAny(t, externalTypes):
			return tracing.ExternalService, nil
		case strings.HasPrefix(t, "inproc"):
			// In-process work belongs to whoever runs it.
			p := g.Parent(i)
			if p < 0 {
				return tracing.Computation, nil
			}
			i = p
			continue
		}
		return tracing.Unclassified, nil
	}
	return 0, &tracing.Invalid{Msg: "Detected infinite loop starting from node " + string(g.Spans[i].ID)}
}

func containsAny(s string, parts []string) bool {
	for _, p := range parts {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// AlwaysSync: the child of a trigger span runs inside it by construction,
// and a cold start's initialization belongs to its request.
func (r *rules) AlwaysSync(g *tracing.Graph, child int32) bool {
	p := g.Parent(child)
	if p < 0 {
		return false
	}
	return r.info(g, p).kind == kindTrigger || r.info(g, child).kind == kindInit
}

// ColdStartInit: a cold-started request has an initialization child.
func (r *rules) ColdStartInit(g *tracing.Graph, i int32) int32 {
	if !g.Spans[i].HasDoc() || r.info(g, i).kind != kindRequest {
		return -1
	}
	return g.FirstChild(i, func(s *tracing.Span) bool { return s.HasDoc() && r.spans[s.Doc].kind == kindInit })
}

func (r *rules) IsInitialization(s *tracing.Span) bool {
	return s.HasDoc() && r.spans[s.Doc].kind == kindInit
}
