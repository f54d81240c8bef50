package dockerenv_test

import (
	"strings"
	"testing"

	"sb/dockerenv"
)

func TestImageEnvVar(t *testing.T) {
	for alias, want := range map[string]string{
		"default":        "SB_IMAGE_DEFAULT",
		"node20.x":       "SB_IMAGE_NODE20_X",
		"aws_cli":        "SB_IMAGE_AWS_CLI",
		"python3.12":     "SB_IMAGE_PYTHON3_12",
		"my-image:1.0/x": "SB_IMAGE_MY_IMAGE_1_0_X",
	} {
		if got := dockerenv.ImageEnvVar(alias); got != want {
			t.Errorf("ImageEnvVar(%q) = %q, want %q", alias, got, want)
		}
	}
}

func TestResolveImagePrecedence(t *testing.T) {
	table, ok := dockerenv.AliasImage("node20.x")
	if !ok || table == "" {
		t.Fatal("node20.x missing from the alias table")
	}
	if got := dockerenv.ResolveImage("node20.x", nil); got != table {
		t.Errorf("table alias: got %q, want %q", got, table)
	}
	overrides := map[string]string{"node20.x": "bench/node:1", "mine": "bench/mine:2"}
	if got := dockerenv.ResolveImage("node20.x", overrides); got != "bench/node:1" {
		t.Errorf("benchmark override: got %q", got)
	}
	if got := dockerenv.ResolveImage("mine", overrides); got != "bench/mine:2" {
		t.Errorf("benchmark-defined alias: got %q", got)
	}
	t.Setenv("SB_IMAGE_NODE20_X", "env/node:3")
	if got := dockerenv.ResolveImage("node20.x", overrides); got != "env/node:3" {
		t.Errorf("environment must win over the benchmark: got %q", got)
	}
	if got := dockerenv.ResolveImage("maven:3.9", overrides); got != "maven:3.9" {
		t.Errorf("plain reference: got %q", got)
	}
	def, _ := dockerenv.AliasImage(dockerenv.DefaultAlias)
	if got := dockerenv.ResolveImage("", nil); got != def {
		t.Errorf("empty name: got %q, want the default alias %q", got, def)
	}
	t.Setenv("SB_IMAGE_DEFAULT", "env/default:1")
	if got := dockerenv.ResolveImage("", nil); got != "env/default:1" {
		t.Errorf("SB_IMAGE_DEFAULT: got %q", got)
	}
}

func TestAliasTableIsPinned(t *testing.T) {
	required := []string{"default", "aws_cli", "azure_cli", "google_cli", "ibm_cli", "pulumi_cli", "serverless_cli", "k6", "node20.x", "node22.x", "python3.12", "python3.13", "go1.x", "java21"}
	seen := map[string]bool{}
	for _, a := range dockerenv.ImageAliases {
		if seen[a.Name] {
			t.Errorf("alias %s listed twice", a.Name)
		}
		seen[a.Name] = true
		tag := a.Image[strings.LastIndexByte(a.Image, '/')+1:]
		if i := strings.LastIndexByte(tag, ':'); i < 0 || tag[i+1:] == "latest" || tag[i+1:] == "" {
			t.Errorf("alias %s → %s is not pinned to a tag", a.Name, a.Image)
		}
	}
	for _, r := range required {
		if !seen[r] {
			t.Errorf("alias %s missing", r)
		}
	}
}

func TestAppWorkspace(t *testing.T) {
	ws, err := dockerenv.AppWorkspace("/home/u/tests/fixtures/dir_name", "/home/u/tests/fixtures/dir_name")
	if err != nil {
		t.Fatal(err)
	}
	if ws.MountPath != "/apps/dir_name" || ws.WorkDir != "/apps/dir_name" || ws.HostDir != "/home/u/tests/fixtures/dir_name" {
		t.Errorf("plain benchmark: %+v", ws)
	}
	ws, err = dockerenv.AppWorkspace("/x/higher_root_path", "/x/higher_root_path/azure")
	if err != nil {
		t.Fatal(err)
	}
	if ws.MountPath != "/apps/higher_root_path" || ws.WorkDir != "/apps/higher_root_path/azure" {
		t.Errorf("root: .. benchmark: %+v", ws)
	}
	if _, err := dockerenv.AppWorkspace("/x/a", "/x/b"); err == nil {
		t.Error("a benchmark outside its root must be refused")
	}
}
