package main

import (
	"context"
	"fmt"

	"github.com/gravitational/teleport/api/client"
	"github.com/gravitational/trace"
)

// runUsers reads users through client.GetUser (UsersService.GetUser), as the access plugins
// read a requester's traits (lib/accessmonitoring/notification/request_handler.go).
func runUsers(ctx context.Context, alice, admin *client.Client) {
	// lib/auth/users/usersv1/service.go, Service.GetUser: anyone reads themselves; reading
	// another user needs read on user; with secrets only the builtin Admin role.
	step("get-user", func() error {
		self, err := alice.GetUser(ctx, "alice", false)
		if err != nil {
			return fmt.Errorf("alice reads herself: %w", err)
		}
		if self.GetName() != "alice" || len(self.GetRoles()) == 0 {
			return fmt.Errorf("alice read %q with roles %v", self.GetName(), self.GetRoles())
		}
		other, err := admin.GetUser(ctx, "alice", false)
		if err != nil {
			return fmt.Errorf("admin reads alice: %w", err)
		}
		if other.GetName() != "alice" {
			return fmt.Errorf("admin read %q, want alice", other.GetName())
		}
		if _, err := alice.GetUser(ctx, "bob", false); err == nil || !trace.IsAccessDenied(err) {
			return fmt.Errorf("alice reads bob: %v, want AccessDenied", err)
		}
		if _, err := admin.GetUser(ctx, "alice", true); err == nil || !trace.IsAccessDenied(err) {
			return fmt.Errorf("admin reads alice with secrets: %v, want AccessDenied", err)
		}
		if _, err := admin.GetUser(ctx, "nobody-here", false); !trace.IsNotFound(err) {
			return fmt.Errorf("admin reads a missing user: %v, want NotFound", err)
		}
		current, err := alice.GetCurrentUser(ctx)
		if err != nil {
			return fmt.Errorf("current user: %w", err)
		}
		if current.GetName() != "alice" {
			return fmt.Errorf("current user %q, want alice", current.GetName())
		}
		return nil
	})
}
