package main

import (
	"os"
	"strings"
	"testing"

	"sb/creds"
	"sb/dockerenv"
)

// TestREADMEMatchesCode keeps the README's reference tables honest: every
// command, global flag, image alias and provider the code has is documented.
func TestREADMEMatchesCode(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	app := newApp()
	for _, c := range app.Commands {
		if c.Name == "help" {
			continue
		}
		if !strings.Contains(readme, "`sb "+c.Name) {
			t.Errorf("README does not document the command sb %s", c.Name)
		}
		for _, sub := range c.Subcommands {
			if !strings.Contains(readme, "`sb "+c.Name+" "+sub.Name) {
				t.Errorf("README does not document sb %s %s", c.Name, sub.Name)
			}
		}
	}
	for _, f := range app.Flags {
		if !strings.Contains(readme, "`--"+f.Names()[0]) {
			t.Errorf("README does not document the global option --%s", f.Names()[0])
		}
	}
	for _, a := range dockerenv.ImageAliases {
		if !strings.Contains(readme, "| `"+a.Name+"` | `"+a.Image+"` |") {
			t.Errorf("README's image table lacks %s = %s", a.Name, a.Image)
		}
	}
	for _, p := range creds.Providers {
		if !strings.Contains(readme, p.Dir) {
			t.Errorf("README does not say where %s credentials are mounted (%s)", p.Name, p.Dir)
		}
	}
}
