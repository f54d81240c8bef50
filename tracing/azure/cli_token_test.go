package azure

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"sb/dockerenv"
	"sb/dockerenv/testimage"
)

// A fake az in a busybox image, run by the real Docker engine: it answers
// only with the credentials volume mounted at the CLI's directory.
const fakeAz = `#!/bin/sh
[ -f /root/.azure/azureProfile.json ] || { echo "ERROR: Please run 'az login' to setup account." >&2; exit 1; }
[ "$*" = "account get-access-token --resource https://api.loganalytics.io --output json" ] || { echo "unexpected: $*" >&2; exit 2; }
echo "WARNING: the default subscription is used" >&2
echo '{"accessToken": "tok-123", "expiresOn": "2030-01-01 00:00:00.000000", "expires_on": 1893456000, "subscription": "sub", "tenant": "t", "tokenType": "Bearer"}'
`

func TestTokenFromCLI(t *testing.T) {
	e, image := testimage.Require(t, testimage.Options{Files: map[string]string{"/usr/bin/az": fakeAz}})
	ctx := context.Background()
	volume := fmt.Sprintf("sb-test-azure-token-%d-%d", os.Getpid(), time.Now().UnixNano())
	t.Cleanup(func() { e.RemoveVolume(context.Background(), volume) })
	mounts := []dockerenv.VolumeMount{{Volume: volume, Target: "/root/.azure"}}

	// Not logged in: a clear error, no token.
	_, err := TokenFromCLI(ctx, e, CLITokenOptions{Image: image, Volumes: mounts})
	if err == nil || !strings.Contains(err.Error(), "sb login azure") || !strings.Contains(err.Error(), "az login") {
		t.Fatalf("not logged in: %v", err)
	}
	if err := e.WriteVolumeFile(ctx, volume, image, "azureProfile.json", []byte(`{"subscriptions":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tok, err := TokenFromCLI(ctx, e, CLITokenOptions{Image: image, Volumes: mounts})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Token != "tok-123" || !tok.ExpiresOn.Equal(time.Unix(1893456000, 0)) {
		t.Errorf("token = %+v", tok)
	}
}

func TestParseCLIToken(t *testing.T) {
	tok, err := parseCLIToken([]byte(`{"accessToken": "a", "expiresOn": "2030-01-01 00:00:00.000000"}`))
	if err != nil || tok.Token != "a" || !tok.ExpiresOn.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("%+v %v", tok, err)
	}
	for _, bad := range []string{"", "ERROR: x", `{"accessToken": ""}`, `{"accessToken": 5}`} {
		if _, err := parseCLIToken([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
