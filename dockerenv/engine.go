// Package dockerenv owns everything sb says to the Docker Engine API: running
// a command in a fresh container with the benchmark's directory and
// credential volumes mounted, building images, interactive shells, pulling
// images, and reading or writing named volumes. It never shells out to the
// docker CLI, so sb needs nothing but a reachable engine.
package dockerenv

import (
	"context"
	"fmt"
	"os"

	"github.com/docker/docker/client"
)

// Label keys set on every container sb creates, so leftovers can be found
// (and removed) by benchmark even after a crash.
const (
	// LabelManaged marks a container as created by sb.
	LabelManaged = "sb.managed"
	// LabelBenchmark names the benchmark a container ran for.
	LabelBenchmark = "sb.benchmark"
)

// Engine is a connection to a Docker engine. It is safe for concurrent use.
type Engine struct {
	api *client.Client

	// UID and GID own the files containers leave in bind-mounted host
	// directories. Connect sets them to the invoking user; the lead may set
	// them from the host uid:gid recorded in .sb/config.yml.
	UID, GID int
}

// Connect reaches the Docker engine named by the standard environment
// (DOCKER_HOST, DOCKER_API_VERSION, DOCKER_CERT_PATH, DOCKER_TLS_VERIFY),
// negotiating the API version with it. When the engine cannot be reached the
// error says which address was tried and what to do.
func Connect(ctx context.Context) (*Engine, error) {
	api, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("cannot configure the Docker client from DOCKER_HOST=%q: %w; fix DOCKER_HOST or unset it to use the local socket", os.Getenv("DOCKER_HOST"), err)
	}
	if _, err := api.Ping(ctx); err != nil {
		host := api.DaemonHost()
		_ = api.Close()
		return nil, unreachableError(host, err)
	}
	return &Engine{api: api, UID: os.Getuid(), GID: os.Getgid()}, nil
}

func unreachableError(host string, err error) error {
	via := "DOCKER_HOST is unset, so the default socket was tried"
	if v := os.Getenv("DOCKER_HOST"); v != "" {
		via = "taken from DOCKER_HOST"
	}
	return fmt.Errorf("cannot reach the Docker engine at %s (%s): %w; start Docker (or fix DOCKER_HOST) and make sure this user may use it", host, via, err)
}

// Host returns the engine address in use, e.g. unix:///var/run/docker.sock.
func (e *Engine) Host() string { return e.api.DaemonHost() }

// APIVersion returns the negotiated Engine API version.
func (e *Engine) APIVersion() string { return e.api.ClientVersion() }

// Close releases the connection.
func (e *Engine) Close() error { return e.api.Close() }
