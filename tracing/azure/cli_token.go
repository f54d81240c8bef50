package azure

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"sb/creds"
	"sb/dockerenv"
)

// LogAnalyticsResource is the resource a Logs query token is issued for.
const LogAnalyticsResource = "https://api.loganalytics.io"

// CLITokenOptions tune TokenFromCLI. The zero value uses the Azure CLI
// image and the azure-secrets volume that `sb login azure` filled.
type CLITokenOptions struct {
	// Image runs the az command; empty means the azure provider's image.
	Image string
	// Volumes are mounted instead of the azure-secrets volume when set.
	Volumes []dockerenv.VolumeMount
	// Timeout bounds the command; 0 means two minutes.
	Timeout time.Duration
}

// TokenFromCLI obtains a Log Analytics access token by running
// `az account get-access-token` in the Azure CLI image with the credentials
// `sb login azure` stored, and returns it as a credential for Download.
// The token never appears in errors or output.
func TokenFromCLI(ctx context.Context, e *dockerenv.Engine, opt CLITokenOptions) (StaticToken, error) {
	p, err := creds.Lookup("azure")
	if err != nil {
		return StaticToken{}, err
	}
	image := opt.Image
	if image == "" {
		image = p.Image()
	}
	volumes := opt.Volumes
	if volumes == nil {
		volumes = []dockerenv.VolumeMount{p.Mount()}
	}
	timeout := opt.Timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	res, err := e.Run(ctx, dockerenv.RunOptions{
		Image:     image,
		Command:   "az account get-access-token --resource " + LogAnalyticsResource + " --output json",
		Workspace: dockerenv.Workspace{Volumes: volumes},
		Timeout:   timeout,
	})
	if err != nil {
		return StaticToken{}, fmt.Errorf("run az account get-access-token in %s: %w", image, err)
	}
	if res.ExitCode != 0 {
		return StaticToken{}, fmt.Errorf("az account get-access-token failed (exit %d: %s): log in with sb login azure", res.ExitCode, lastLine(res.Output))
	}
	return parseCLIToken([]byte(res.Output))
}

// parseCLIToken reads az's JSON answer out of its combined output (which
// may hold warnings before it).
func parseCLIToken(out []byte) (StaticToken, error) {
	i, j := bytes.IndexByte(out, '{'), bytes.LastIndexByte(out, '}')
	if i < 0 || j < i {
		return StaticToken{}, fmt.Errorf("az account get-access-token printed no JSON (%s)", lastLine(string(out)))
	}
	var v struct {
		AccessToken string          `json:"accessToken"`
		ExpiresOn   string          `json:"expiresOn"`
		ExpiresOnTS json.RawMessage `json:"expires_on"`
	}
	if err := json.Unmarshal(out[i:j+1], &v); err != nil {
		return StaticToken{}, fmt.Errorf("az account get-access-token printed malformed JSON: %v", err)
	}
	if v.AccessToken == "" {
		return StaticToken{}, fmt.Errorf("az account get-access-token printed no accessToken")
	}
	t := StaticToken{Token: v.AccessToken}
	// expires_on (Unix seconds, number or string) is unambiguous; the
	// older expiresOn is local time without zone, taken as UTC (the
	// container's zone).
	if s := strings.Trim(string(v.ExpiresOnTS), `"`); s != "" {
		if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
			t.ExpiresOn = time.Unix(sec, 0)
		}
	}
	if t.ExpiresOn.IsZero() && v.ExpiresOn != "" {
		if exp, err := time.Parse("2006-01-02 15:04:05.999999", v.ExpiresOn); err == nil {
			t.ExpiresOn = exp
		}
	}
	return t, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if k := strings.LastIndexByte(s, '\n'); k >= 0 {
		s = s[k+1:]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		return "no output"
	}
	return s
}
