package azure

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// DefaultCredential is azidentity's standard chain for a command-line tool:
// an environment service principal (AZURE_TENANT_ID, AZURE_CLIENT_ID and
// a secret or certificate), workload identity (AZURE_FEDERATED_TOKEN_FILE),
// then the Azure CLI's login on this machine. Sources that are not
// configured are left out; the chain tries the rest in order.
func DefaultCredential() (azcore.TokenCredential, error) {
	var sources []azcore.TokenCredential
	var errs []error
	if c, err := azidentity.NewEnvironmentCredential(nil); err == nil {
		sources = append(sources, c)
	} else {
		errs = append(errs, err)
	}
	if c, err := azidentity.NewWorkloadIdentityCredential(nil); err == nil {
		sources = append(sources, c)
	} else {
		errs = append(errs, err)
	}
	if c, err := azidentity.NewAzureCLICredential(nil); err == nil {
		sources = append(sources, c)
	} else {
		errs = append(errs, err)
	}
	if len(sources) == 0 {
		return nil, fmt.Errorf("no Azure credentials: log in (sb login azure, or az login) or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET: %w", errors.Join(errs...))
	}
	c, err := azidentity.NewChainedTokenCredential(sources, nil)
	if err != nil {
		return nil, fmt.Errorf("Azure credentials: %w", err)
	}
	return c, nil
}

// StaticToken is an access token obtained elsewhere (e.g. by `az account
// get-access-token` in the Azure CLI image with the azure-secrets volume,
// see TokenFromCLI), handed to the SDK as a credential. It is sent for any
// scope the SDK asks for; the token's own audience decides what it opens.
type StaticToken struct {
	Token     string
	ExpiresOn time.Time
}

// GetToken implements azcore.TokenCredential.
func (s StaticToken) GetToken(ctx context.Context, _ policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if s.Token == "" {
		return azcore.AccessToken{}, errors.New("empty Azure access token")
	}
	if !s.ExpiresOn.IsZero() && time.Now().After(s.ExpiresOn) {
		return azcore.AccessToken{}, fmt.Errorf("the Azure access token expired at %s: obtain a new one (sb login azure)", s.ExpiresOn.Format(time.RFC3339))
	}
	exp := s.ExpiresOn
	if exp.IsZero() {
		// Unknown expiry: the service will say when it is stale.
		exp = time.Now().Add(time.Hour)
	}
	return azcore.AccessToken{Token: s.Token, ExpiresOn: exp}, nil
}
