package main

import (
	"context"
	"fmt"

	"github.com/gravitational/teleport/api/client"
	"github.com/gravitational/teleport/api/client/proto"
	"github.com/gravitational/teleport/api/types"
)

// runIdentityCenter lists the demo seed's AWS Identity Center resources through
// client.ListResources, as tsh request search does, and checks that the official client
// decodes them: an account as an app server of sub-kind aws_ic_account, an assignment
// through proto.UnpackICAccountAssignment (PaginatedResource field 16).
func runIdentityCenter(ctx context.Context, alice *client.Client) {
	step("identity-center-resources", func() error {
		list := func(kind string, searchAs bool) ([]types.ResourceWithLabels, error) {
			resp, err := alice.ListResources(ctx, proto.ListResourcesRequest{
				ResourceType: kind, UseSearchAsRoles: searchAs, Limit: 10,
			})
			if err != nil {
				return nil, err
			}
			return resp.Resources, nil
		}
		accounts, err := list(types.KindIdentityCenterAccount, true)
		if err != nil {
			return fmt.Errorf("accounts: %w", err)
		}
		if len(accounts) != 1 {
			return fmt.Errorf("accounts = %v, want aws-staging only", accounts)
		}
		server, ok := accounts[0].(types.AppServer)
		if !ok {
			return fmt.Errorf("account decoded as %T, want an app server", accounts[0])
		}
		app := server.GetApp()
		ic := app.GetIdentityCenter()
		if app.GetName() != "aws-staging" || app.GetSubKind() != types.KindIdentityCenterAccount || ic == nil || ic.AccountID != "111111111111" {
			return fmt.Errorf("account app = %v", app)
		}
		assignments, err := list(types.KindIdentityCenterAccountAssignment, true)
		if err != nil {
			return fmt.Errorf("assignments: %w", err)
		}
		if len(assignments) != 1 || assignments[0].GetKind() != types.KindIdentityCenterAccountAssignment ||
			assignments[0].GetName() != "111111111111--ReadOnly" {
			return fmt.Errorf("assignments = %v", assignments)
		}
		// Without search_as_roles alice's own roles name no account.
		own, err := list(types.KindIdentityCenterAccount, false)
		if err != nil {
			return err
		}
		if len(own) != 0 {
			return fmt.Errorf("without search_as_roles: %v, want none", own)
		}
		return nil
	})
}
