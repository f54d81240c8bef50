package xray

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// ConfigOptions select where AWS settings come from.
type ConfigOptions struct {
	// Region overrides the configured region (the benchmark's "region").
	Region string
	// SharedDir, when set, holds the shared "config" and "credentials"
	// files to use instead of ~/.aws (for example a copy of the
	// aws-secrets volume that `sb login aws` fills).
	SharedDir string
	// Profile selects a profile of the shared files.
	Profile string
}

// LoadConfig loads the AWS configuration the standard way (environment,
// shared files, SSO, instance roles), so that AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_XRAY point the X-Ray client at any compatible endpoint.
func LoadConfig(ctx context.Context, opt ConfigOptions) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if opt.Region != "" {
		opts = append(opts, config.WithRegion(opt.Region))
	}
	if opt.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(opt.Profile))
	}
	if opt.SharedDir != "" {
		if st, err := os.Stat(opt.SharedDir); err != nil || !st.IsDir() {
			return aws.Config{}, fmt.Errorf("AWS settings directory %q is not readable: log in first (sb login aws)", opt.SharedDir)
		}
		opts = append(opts,
			config.WithSharedConfigFiles([]string{filepath.Join(opt.SharedDir, "config")}),
			config.WithSharedCredentialsFiles([]string{filepath.Join(opt.SharedDir, "credentials")}))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg, nil
}
