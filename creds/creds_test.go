package creds_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sb/creds"
	"sb/dockerenv"
	"sb/dockerenv/testimage"
)

// fakeCLIs stand in for the provider CLIs (no registry here): they keep
// state only in the credentials directory, as the real ones do.
var fakeCLIs = map[string]string{
	"/usr/bin/aws": `#!/bin/sh
case "$*" in
"configure")
	printf 'AWS Access Key ID: '; read key
	mkdir -p /root/.aws && printf '[default]\naws_access_key_id = %s\n' "$key" > /root/.aws/credentials ;;
"sts get-caller-identity")
	grep -q aws_access_key_id /root/.aws/credentials 2>/dev/null || { echo 'Unable to locate credentials' >&2; exit 255; }
	echo '{"Account": "123456789012"}' ;;
*) echo "fake aws: $*" >&2; exit 2 ;;
esac
`,
	"/usr/bin/az": `#!/bin/sh
case "$*" in
"login") read token; mkdir -p /root/.azure && echo "$token" > /root/.azure/msal_token_cache.json; echo logged-in ;;
"account show") test -s /root/.azure/msal_token_cache.json && echo '{"name": "sub"}' || exit 1 ;;
*) exit 2 ;;
esac
`,
}

func setup(t *testing.T, name string) (*dockerenv.Engine, creds.Provider) {
	t.Helper()
	e, img := testimage.Require(t, testimage.Options{Files: fakeCLIs})
	p, err := creds.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(dockerenv.ImageEnvVar(p.ImageAlias), img)
	// Never touch the user's real <provider>-secrets volume.
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	p.Volume = "sb-test-" + name + "-" + hex.EncodeToString(b) + "-secrets"
	t.Cleanup(func() { _, _ = e.RemoveVolume(context.Background(), p.Volume) })
	return e, p
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestAWSLoginPromptCheckLogout(t *testing.T) {
	e, p := setup(t, "aws")
	secret := "[default]\naws_access_key_id = AKIDSECRETVALUE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG\n"
	var out bytes.Buffer
	if err := creds.Login(ctxT(t), e, p, true, creds.Stdio{In: strings.NewReader(secret), Out: &out}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "AKIDSECRETVALUE") || strings.Contains(out.String(), "wJalr") {
		t.Errorf("login printed the credentials: %q", out.String())
	}
	if !strings.Contains(out.String(), "Ctrl-D") {
		t.Errorf("login did not tell how to finish pasting: %q", out.String())
	}
	dir := t.TempDir()
	img := p.Image()
	if err := e.CopyVolumeTo(ctxT(t), p.Volume, img, dir); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "credentials")); err != nil || string(got) != secret {
		t.Errorf("stored credentials = %q, %v", got, err)
	}

	out.Reset()
	if err := creds.CheckCredentials(ctxT(t), e, p, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "123456789012") {
		t.Errorf("identity output = %q", out.String())
	}

	out.Reset()
	if existed, err := creds.Logout(ctxT(t), e, p, &out); err != nil || !existed {
		t.Fatalf("Logout = %v, %v", existed, err)
	}
	if !strings.Contains(out.String(), "Removed all aws credentials") {
		t.Errorf("logout said %q", out.String())
	}
	err := creds.CheckCredentials(ctxT(t), e, p, &out)
	if !errors.Is(err, creds.ErrNoCredentials) || !strings.Contains(err.Error(), "sb login aws") {
		t.Errorf("check after logout: %v", err)
	}
}

func TestInteractiveLogin(t *testing.T) {
	e, p := setup(t, "azure")
	var out bytes.Buffer
	if err := creds.Login(ctxT(t), e, p, false, creds.Stdio{In: strings.NewReader("token-value\n"), Out: &out}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "logged-in\n" {
		t.Errorf("login output = %q", out.String())
	}
	out.Reset()
	if err := creds.CheckCredentials(ctxT(t), e, p, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"name": "sub"`) {
		t.Errorf("identity output = %q", out.String())
	}
	// --prompt is aws only.
	if err := creds.Login(ctxT(t), e, p, true, creds.Stdio{In: strings.NewReader("x")}); err == nil || !strings.Contains(err.Error(), "only aws") {
		t.Errorf("azure --prompt: %v", err)
	}
}

func TestFailedLoginAndCheck(t *testing.T) {
	e, p := setup(t, "aws")
	// A volume without valid credentials: the identity call fails.
	if err := e.WriteVolumeFile(ctxT(t), p.Volume, p.Image(), "config", []byte("[default]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := creds.CheckCredentials(ctxT(t), e, p, &out)
	if err == nil || !strings.Contains(err.Error(), "status 255") || !strings.Contains(err.Error(), "sb login aws") {
		t.Errorf("check with bad credentials: %v", err)
	}
	if !strings.Contains(out.String(), "Unable to locate credentials") {
		t.Errorf("identity call output = %q", out.String())
	}
	// A login command that fails is reported with its status.
	p.Login = []string{"aws", "no-such-command"}
	if err := creds.Login(ctxT(t), e, p, false, creds.Stdio{In: strings.NewReader(""), Out: &out}); err == nil || !strings.Contains(err.Error(), "status 2") {
		t.Errorf("failing login: %v", err)
	}
	if err := creds.Login(ctxT(t), e, p, true, creds.Stdio{In: strings.NewReader("  \n")}); err == nil {
		t.Error("an empty pasted credentials file was stored")
	}
}

func TestLogoutWithoutVolume(t *testing.T) {
	e, p := setup(t, "pulumi")
	var out bytes.Buffer
	existed, err := creds.Logout(ctxT(t), e, p, &out)
	if err != nil || existed {
		t.Fatalf("Logout = %v, %v; want false, nil", existed, err)
	}
	if want := "No credentials for pulumi present (no volume " + p.Volume + ").\n"; out.String() != want {
		t.Errorf("logout said %q, want %q", out.String(), want)
	}
}

func TestUnknownProvider(t *testing.T) {
	_, err := creds.Lookup("alibaba")
	if err == nil {
		t.Fatal("alibaba accepted")
	}
	if want := `unknown provider "alibaba"; supported providers: aws, azure, google, ibm, pulumi`; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if _, err := creds.Mounts([]string{"aws", "alibaba"}); err == nil {
		t.Error("Mounts accepted an unknown provider")
	}
}

func TestMounts(t *testing.T) {
	m, err := creds.Mounts([]string{"aws", "pulumi"})
	if err != nil {
		t.Fatal(err)
	}
	want := []dockerenv.VolumeMount{{Volume: "aws-secrets", Target: "/root/.aws"}, {Volume: "pulumi-secrets", Target: "/root/.pulumi"}}
	if len(m) != 2 || m[0] != want[0] || m[1] != want[1] {
		t.Errorf("Mounts = %v, want %v", m, want)
	}
	if m, err := creds.Mounts(nil); err != nil || len(m) != 0 {
		t.Errorf("no provider: %v, %v", m, err)
	}
	dirs := map[string]string{"aws": "/root/.aws", "azure": "/root/.azure", "google": "/root/.config/gcloud", "ibm": "/root/.bluemix", "pulumi": "/root/.pulumi"}
	for name, dir := range dirs {
		p, err := creds.Lookup(name)
		if err != nil || p.Dir != dir || p.Volume != name+"-secrets" {
			t.Errorf("%s: %+v, %v", name, p, err)
		}
		if _, ok := dockerenv.AliasImage(p.ImageAlias); !ok {
			t.Errorf("%s: image alias %s not in the table", name, p.ImageAlias)
		}
	}
}
