// Package creds owns sb's cloud providers table and the credential commands
// built on it: sb login, sb logout and sb check_credentials keep each
// provider's credentials in a Docker volume named <provider>-secrets, which
// spec.run mounts at the provider CLI's configuration directory. Credentials
// stay inside that volume: nothing here logs or prints them.
package creds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"sb/dockerenv"
)

// Provider is one row of the providers table.
type Provider struct {
	Name       string   // as in BENCHMARK_CONFIG's provider:, e.g. "aws"
	Dir        string   // where the provider CLI keeps credentials in its image
	Volume     string   // the Docker volume holding them, <Name>-secrets
	ImageAlias string   // alias of the provider CLI image (see dockerenv.ImageAliases)
	Login      []string // interactive login command
	Identity   []string // command that shows who the credentials belong to
	// PromptFile is the file (relative to Dir) that `sb login --prompt`
	// fills with a pasted credentials file; "" when the provider has none.
	PromptFile string
}

// Providers is the table of supported providers, as in ServiBench.
var Providers = []Provider{
	{Name: "aws", Volume: "aws-secrets", Dir: "/root/.aws", ImageAlias: "aws_cli",
		Login: []string{"aws", "configure"}, Identity: []string{"aws", "sts", "get-caller-identity"}, PromptFile: "credentials"},
	{Name: "azure", Volume: "azure-secrets", Dir: "/root/.azure", ImageAlias: "azure_cli",
		Login: []string{"az", "login"}, Identity: []string{"az", "account", "show"}},
	{Name: "google", Volume: "google-secrets", Dir: "/root/.config/gcloud", ImageAlias: "google_cli",
		Login: []string{"gcloud", "init"}, Identity: []string{"gcloud", "auth", "list"}},
	{Name: "ibm", Volume: "ibm-secrets", Dir: "/root/.bluemix", ImageAlias: "ibm_cli",
		Login: []string{"ibmcloud", "login"}, Identity: []string{"ibmcloud", "target"}},
	{Name: "pulumi", Volume: "pulumi-secrets", Dir: "/root/.pulumi", ImageAlias: "pulumi_cli",
		Login: []string{"pulumi", "login"}, Identity: []string{"pulumi", "whoami"}},
}

// Names lists the supported providers.
func Names() []string {
	names := make([]string, len(Providers))
	for i, p := range Providers {
		names[i] = p.Name
	}
	return names
}

// Lookup returns the provider called name; an unknown name is an error
// listing the supported ones.
func Lookup(name string) (Provider, error) {
	for _, p := range Providers {
		if p.Name == name {
			return p, nil
		}
	}
	return Provider{}, fmt.Errorf("unknown provider %q; supported providers: %s", name, strings.Join(Names(), ", "))
}

// Mount is the volume mount giving a container p's credentials.
func (p Provider) Mount() dockerenv.VolumeMount {
	return dockerenv.VolumeMount{Volume: p.Volume, Target: p.Dir}
}

// Image is p's CLI image, after SB_IMAGE_<ALIAS> overrides.
func (p Provider) Image() string {
	return dockerenv.ResolveImage(p.ImageAlias, nil)
}

// Mounts returns the credential volumes spec.run mounts for a benchmark's
// providers (provider: may be a string or a list; nothing is mounted for
// none). An unknown provider is an error listing the supported ones.
func Mounts(providers []string) ([]dockerenv.VolumeMount, error) {
	var mounts []dockerenv.VolumeMount
	for _, name := range providers {
		p, err := Lookup(name)
		if err != nil {
			return nil, err
		}
		mounts = append(mounts, p.Mount())
	}
	return mounts, nil
}

// Stdio connects an interactive login to the user.
type Stdio struct {
	In  io.Reader // the user's input (os.Stdin)
	Out io.Writer // prompts and CLI output (os.Stdout)
}

// Login stores credentials for p in its volume. Without prompt it runs
// p's login command interactively in p's CLI image with the volume mounted
// (aws configure, az login, gcloud init, ibmcloud login, pulumi login).
// With prompt (aws only) the user pastes a whole credentials file, read from
// stdio.In up to end of input (Ctrl-D), which becomes the volume's
// credentials file.
func Login(ctx context.Context, e *dockerenv.Engine, p Provider, prompt bool, stdio Stdio) error {
	if prompt {
		return loginPrompt(ctx, e, p, stdio)
	}
	code, err := e.Shell(ctx, dockerenv.ShellOptions{
		Image:     p.Image(),
		Command:   p.Login,
		Workspace: dockerenv.Workspace{Volumes: []dockerenv.VolumeMount{p.Mount()}},
		Stdin:     stdio.In,
		Stdout:    stdio.Out,
	})
	if err != nil {
		return fmt.Errorf("%s login: %w", p.Name, err)
	}
	if code != 0 {
		return fmt.Errorf("%s login: `%s` exited with status %d; run `sb login %s` again", p.Name, strings.Join(p.Login, " "), code, p.Name)
	}
	return nil
}

func loginPrompt(ctx context.Context, e *dockerenv.Engine, p Provider, stdio Stdio) error {
	if p.PromptFile == "" {
		return fmt.Errorf("sb login %s --prompt is not supported: only aws takes a pasted credentials file; run `sb login %s`", p.Name, p.Name)
	}
	if stdio.In == nil {
		return fmt.Errorf("sb login %s --prompt needs input to read the credentials file from", p.Name)
	}
	if stdio.Out != nil {
		fmt.Fprintf(stdio.Out, "Paste a %s/%s file with a [default] profile, press Enter, then Ctrl-D (Ctrl-Z on Windows) to save it.\n", p.Dir, p.PromptFile)
	}
	data, err := io.ReadAll(stdio.In)
	if err != nil {
		return fmt.Errorf("reading the pasted %s credentials: %w", p.Name, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return fmt.Errorf("no %s credentials pasted; nothing stored", p.Name)
	}
	if err := e.WriteVolumeFile(ctx, p.Volume, p.Image(), p.PromptFile, data, 0o600); err != nil {
		return fmt.Errorf("%s login: %w", p.Name, err)
	}
	if stdio.Out != nil {
		fmt.Fprintf(stdio.Out, "Stored the %s credentials in volume %s.\n", p.Name, p.Volume)
	}
	return nil
}

// Logout removes p's credentials volume, saying on out whether there was
// one, and reports whether it existed.
func Logout(ctx context.Context, e *dockerenv.Engine, p Provider, out io.Writer) (bool, error) {
	existed, err := e.RemoveVolume(ctx, p.Volume)
	if err != nil {
		return existed, fmt.Errorf("%s logout: %w", p.Name, err)
	}
	if out != nil {
		if existed {
			fmt.Fprintf(out, "Removed all %s credentials (volume %s).\n", p.Name, p.Volume)
		} else {
			fmt.Fprintf(out, "No credentials for %s present (no volume %s).\n", p.Name, p.Volume)
		}
	}
	return existed, nil
}

// ErrNoCredentials is wrapped by CheckCredentials when no login happened.
var ErrNoCredentials = errors.New("no credentials stored")

// CheckCredentials runs p's identity call (e.g. aws sts get-caller-identity)
// in p's CLI image with the credentials volume mounted, writing its answer
// (who the credentials belong to, not the credentials) to out.
func CheckCredentials(ctx context.Context, e *dockerenv.Engine, p Provider, out io.Writer) error {
	exists, err := e.VolumeExists(ctx, p.Volume)
	if err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("%w for %s (no volume %s); run `sb login %s`", ErrNoCredentials, p.Name, p.Volume, p.Name)
	}
	code, err := e.Shell(ctx, dockerenv.ShellOptions{
		Image:     p.Image(),
		Command:   p.Identity,
		Workspace: dockerenv.Workspace{Volumes: []dockerenv.VolumeMount{p.Mount()}},
		Stdout:    out,
	})
	if err != nil {
		return fmt.Errorf("checking %s credentials: %w", p.Name, err)
	}
	if code != 0 {
		return fmt.Errorf("%s credentials did not work: `%s` exited with status %d; run `sb login %s` to renew them", p.Name, strings.Join(p.Identity, " "), code, p.Name)
	}
	return nil
}
