package dockerenv

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/pkg/jsonmessage"
	archive "github.com/moby/go-archive"
	"github.com/moby/patternmatcher/ignorefile"
)

// BuildOptions describes one spec.build call.
type BuildOptions struct {
	Tag        string            // e.g. "myapp:latest"
	Dockerfile string            // path relative to ContextDir (or absolute); "Dockerfile" when empty
	ContextDir string            // build context; its .dockerignore is honoured
	BuildArgs  map[string]string // --build-arg values
	Output     io.Writer         // live build log; nil discards it
	Prefix     string            // starts every line written to Output
}

// BuildError is a failed build: the step that failed, what it printed and
// the engine's message.
type BuildError struct {
	Tag     string
	Step    string // e.g. "Step 2/3 : RUN make"; "" when the build failed before any step
	Output  string // what the failing step printed
	Message string // the engine's error
}

func (e *BuildError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "building image %s failed", e.Tag)
	if e.Step != "" {
		fmt.Fprintf(&b, " at %q", e.Step)
	}
	fmt.Fprintf(&b, ": %s", e.Message)
	if out := strings.TrimSpace(e.Output); out != "" {
		b.WriteString("\nstep output:\n")
		b.WriteString(out)
	}
	return b.String()
}

// Build builds an image from a Dockerfile, sending the context directory
// (minus what .dockerignore excludes) to the engine and streaming the build
// log to o.Output. It returns the image ID. A failing step yields a
// *BuildError holding that step's output.
func (e *Engine) Build(ctx context.Context, o BuildOptions) (string, error) {
	if o.Tag == "" {
		return "", errors.New("building an image needs a tag; pass one to spec.build")
	}
	ctxDir, err := filepath.Abs(o.ContextDir)
	if err != nil {
		return "", fmt.Errorf("resolving build context %s: %w", o.ContextDir, err)
	}
	if fi, err := os.Stat(ctxDir); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("build context %s is not a directory", ctxDir)
	}
	dockerfile := o.Dockerfile
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	if !filepath.IsAbs(dockerfile) {
		dockerfile = filepath.Join(ctxDir, dockerfile)
	}
	dfContent, err := os.ReadFile(dockerfile)
	if err != nil {
		return "", fmt.Errorf("reading the Dockerfile: %w", err)
	}

	excludes, err := readDockerignore(ctxDir)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(ctxDir, dockerfile)
	outside := err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator))
	var dfName string
	if outside {
		// Like the docker CLI: a Dockerfile outside the context travels in
		// the context under a name nothing else uses.
		dfName = ".sb-dockerfile-" + filepath.Base(dockerfile)
	} else {
		dfName = filepath.ToSlash(rel)
		// The engine needs the Dockerfile and reads .dockerignore even
		// when .dockerignore lists them.
		excludes = append(excludes, "!"+dfName, "!.dockerignore")
	}
	tarball, err := archive.TarWithOptions(ctxDir, &archive.TarOptions{
		ExcludePatterns: excludes,
		// Files reach the build owned by root, not by the host uid.
		ChownOpts: &archive.ChownOpts{UID: 0, GID: 0},
	})
	if err != nil {
		return "", fmt.Errorf("packing build context %s: %w", ctxDir, err)
	}
	if outside {
		tarball = archive.ReplaceFileTarWrapper(tarball, map[string]archive.TarModifierFunc{
			dfName: func(string, *tar.Header, io.Reader) (*tar.Header, []byte, error) {
				return &tar.Header{Name: dfName, Mode: 0o600, Typeflag: tar.TypeReg}, dfContent, nil
			},
		})
	}
	defer tarball.Close()
	return e.buildFromTar(ctx, o.Tag, dfName, tarball, o.BuildArgs, nil, o.Output, o.Prefix)
}

// readDockerignore returns the patterns of ctxDir/.dockerignore, none when
// the file is absent.
func readDockerignore(ctxDir string) ([]string, error) {
	f, err := os.Open(filepath.Join(ctxDir, ".dockerignore"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading .dockerignore: %w", err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", f.Name(), err)
	}
	return patterns, nil
}

// buildFromTar sends a tar build context to the engine's classic builder
// (no BuildKit session needed, so it works on every engine the API
// negotiates with) and follows its JSON log.
func (e *Engine) buildFromTar(ctx context.Context, tag, dockerfile string, buildContext io.Reader, args, labels map[string]string, out io.Writer, prefix string) (string, error) {
	buildArgs := make(map[string]*string, len(args))
	for k, v := range args {
		buildArgs[k] = &v
	}
	resp, err := e.api.ImageBuild(ctx, buildContext, build.ImageBuildOptions{
		Tags:        []string{tag},
		Dockerfile:  dockerfile,
		BuildArgs:   buildArgs,
		Labels:      labels,
		Remove:      true,
		ForceRemove: true, // intermediate containers go even when a step fails
		Version:     build.BuilderV1,
	})
	if err != nil {
		return "", &BuildError{Tag: tag, Message: err.Error()}
	}
	defer resp.Body.Close()

	var log io.Writer = io.Discard
	if out != nil {
		log = &prefixWriter{w: out, prefix: []byte(prefix)}
	}
	var (
		step    string
		stepOut strings.Builder
		imageID string
	)
	dec := json.NewDecoder(resp.Body)
	for {
		var msg jsonmessage.JSONMessage
		if err := dec.Decode(&msg); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			if ctx.Err() != nil {
				return "", fmt.Errorf("building image %s interrupted: %w", tag, context.Cause(ctx))
			}
			return "", &BuildError{Tag: tag, Step: step, Output: stepOut.String(), Message: "reading the build log: " + err.Error()}
		}
		if msg.Error != nil || msg.ErrorMessage != "" {
			m := msg.ErrorMessage
			if msg.Error != nil && msg.Error.Message != "" {
				m = msg.Error.Message
			}
			fmt.Fprintln(log, m)
			return "", &BuildError{Tag: tag, Step: step, Output: stepOut.String(), Message: m}
		}
		if msg.Aux != nil {
			var aux struct{ ID string }
			if json.Unmarshal(*msg.Aux, &aux) == nil && aux.ID != "" {
				imageID = aux.ID
			}
		}
		switch {
		case msg.Stream != "":
			_, _ = io.WriteString(log, msg.Stream)
			for _, line := range strings.SplitAfter(msg.Stream, "\n") {
				switch {
				case line == "":
				case strings.HasPrefix(line, "Step "):
					step = strings.TrimSpace(line)
					stepOut.Reset()
				case strings.HasPrefix(line, " ---> "), strings.HasPrefix(line, "Removing intermediate container"):
					// builder chatter, not the step's output
				default:
					stepOut.WriteString(line)
				}
			}
		case msg.Status != "" && msg.Progress == nil:
			// Pulls of FROM images: one line per state change.
			if msg.ID != "" {
				fmt.Fprintf(log, "%s: %s\n", msg.ID, msg.Status)
			} else {
				fmt.Fprintln(log, msg.Status)
			}
		}
	}
	if ctx.Err() != nil {
		return "", fmt.Errorf("building image %s interrupted: %w", tag, context.Cause(ctx))
	}
	return imageID, nil
}
