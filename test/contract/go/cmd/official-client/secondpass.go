package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gravitational/teleport/api/client"
	"github.com/gravitational/teleport/api/client/proto"
	accessmonitoringrulesv1 "github.com/gravitational/teleport/api/gen/proto/go/teleport/accessmonitoringrules/v1"
	headerv1 "github.com/gravitational/teleport/api/gen/proto/go/teleport/header/v1"
	"github.com/gravitational/teleport/api/types"
	"github.com/gravitational/trace"
)

var (
	oidImpersonator    = asn1.ObjectIdentifier{1, 3, 9999, 2, 7}
	oidDisallowReissue = asn1.ObjectIdentifier{1, 3, 9999, 2, 9}
)

// runSecondPass checks the rules of the second audit (issue 21) through the official
// client: watch delivery by kind and name, explicit denies, requests created in a resolved
// state and the server-set ID, search keywords, renewals without an expiry and role
// impersonation. denied (deny rules on create and list) and ci (may impersonate the role
// auditor) come from the extra seed the test adds to the demo seed.
func runSecondPass(ctx context.Context, o options, alice, bob, admin *client.Client) {
	if o.denied == "" || o.ci == "" {
		return
	}
	var denied, ci *client.Client
	step("second-pass-connect", func() error {
		var err error
		if denied, err = connect(ctx, o.addr, client.LoadIdentityFile(o.denied)); err != nil {
			return err
		}
		ci, err = connect(ctx, o.addr, client.LoadIdentityFile(o.ci))
		return err
	})
	defer denied.Close()
	defer ci.Close()

	newRequest := func(user string) (*types.AccessRequestV3, error) {
		req, err := types.NewAccessRequest(uuid.NewString(), user, "auditor")
		if err != nil {
			return nil, err
		}
		req.SetRequestReason("second pass zebra")
		return req.(*types.AccessRequestV3), nil
	}

	// api/types/events.go, WatchKind.Matches: the kind, then the name, then the filter.
	step("watch-delivery-by-kind-and-name", func() error {
		first, err := newRequest("alice")
		if err != nil {
			return err
		}
		second, err := newRequest("alice")
		if err != nil {
			return err
		}
		a, err := alice.CreateAccessRequestV2(ctx, first)
		if err != nil {
			return err
		}
		b, err := alice.CreateAccessRequestV2(ctx, second)
		if err != nil {
			return err
		}
		rules, err := admin.NewWatcher(ctx, types.Watch{Kinds: []types.WatchKind{{Kind: types.KindAccessMonitoringRule}}})
		if err != nil {
			return err
		}
		defer rules.Close()
		named, err := admin.NewWatcher(ctx, types.Watch{Kinds: []types.WatchKind{{Kind: types.KindAccessRequest, Name: b.GetName()}}})
		if err != nil {
			return err
		}
		defer named.Close()
		for _, w := range []types.Watcher{rules, named} {
			if ev, err := next(w); err != nil || ev.Type != types.OpInit {
				return fmt.Errorf("first event %v, %v; want init", ev.Type, err)
			}
		}
		for _, id := range []string{a.GetName(), b.GetName()} {
			if err := admin.DeleteAccessRequest(ctx, id); err != nil {
				return err
			}
		}
		if ev, err := next(named); err != nil || ev.Type != types.OpDelete || ev.Resource.GetName() != b.GetName() {
			return fmt.Errorf("named watcher: %v %v, %v; want only the delete of %s", ev.Type, resourceName(ev), err, b.GetName())
		}
		rule := &accessmonitoringrulesv1.AccessMonitoringRule{
			Kind:     types.KindAccessMonitoringRule,
			Version:  types.V1,
			Metadata: &headerv1.Metadata{Name: "second-pass"},
			Spec: &accessmonitoringrulesv1.AccessMonitoringRuleSpec{
				Subjects:     []string{types.KindAccessRequest},
				Condition:    "true",
				Notification: &accessmonitoringrulesv1.Notification{Name: "webhook", Recipients: []string{"https://hooks.example.com/x"}},
			},
		}
		if _, err := admin.AccessMonitoringRulesClient().CreateAccessMonitoringRule(ctx, rule); err != nil {
			return err
		}
		defer admin.AccessMonitoringRulesClient().DeleteAccessMonitoringRule(ctx, "second-pass")
		if ev, err := next(rules); err != nil || ev.Type != types.OpPut || ev.Resource.GetKind() != types.KindAccessMonitoringRule {
			return fmt.Errorf("rule watcher's first event %v %v, %v; want the rule's put and no request delete", ev.Type, resourceName(ev), err)
		}
		return nil
	})

	// lib/auth/auth_with_roles.go, CreateAccessRequestV2 and ListAccessRequests.
	step("explicit-deny-create-and-list", func() error {
		req, err := newRequest("denied")
		if err != nil {
			return err
		}
		_, err = denied.CreateAccessRequestV2(ctx, req)
		if err := expectAccessDenied(err, `access denied to perform action "create" on "access_request"`); err != nil {
			return fmt.Errorf("create: %w", err)
		}
		_, err = denied.ListAccessRequests(ctx, &proto.ListAccessRequestsRequest{Filter: &types.AccessRequestFilter{User: "denied"}})
		if err := expectAccessDenied(err, `access denied to perform action "list" on "access_request"`); err != nil {
			return fmt.Errorf("list: %w", err)
		}
		return nil
	})

	step("create-non-pending-and-server-id", func() error {
		own, err := newRequest("admin")
		if err != nil {
			return err
		}
		if err := own.SetState(types.RequestState_APPROVED); err != nil {
			return err
		}
		_, err = admin.CreateAccessRequestV2(ctx, own)
		if err := expectAccessDenied(err, "cannot create access request for self in non-pending state"); err != nil {
			return err
		}
		forAlice, err := newRequest("alice")
		if err != nil {
			return err
		}
		if err := forAlice.SetState(types.RequestState_APPROVED); err != nil {
			return err
		}
		created, err := admin.CreateAccessRequestV2(ctx, forAlice)
		if err != nil {
			return err
		}
		if !created.GetState().IsApproved() {
			return fmt.Errorf("created for alice in state %s, want APPROVED", created.GetState())
		}
		if created.GetName() == forAlice.GetName() {
			return errors.New("the server kept the client's request ID")
		}
		noUser := &types.AccessRequestV3{
			Kind: types.KindAccessRequest, Version: types.V3,
			Metadata: types.Metadata{Name: uuid.NewString()},
			Spec:     types.AccessRequestSpecV3{Roles: []string{"auditor"}},
		}
		_, err = alice.CreateAccessRequestV2(ctx, noUser)
		if !trace.IsBadParameter(err) || !strings.Contains(err.Error(), "access request user name not set") {
			return fmt.Errorf("request without a user: %v, want BadParameter", err)
		}
		return nil
	})

	// api/types/access_request.go, AccessRequestV3.MatchSearch.
	step("search-keywords", func() error {
		req, err := newRequest("alice")
		if err != nil {
			return err
		}
		created, err := alice.CreateAccessRequestV2(ctx, req)
		if err != nil {
			return err
		}
		found := func(kw string) (bool, error) {
			page, err := alice.ListAccessRequests(ctx, &proto.ListAccessRequestsRequest{
				Filter: &types.AccessRequestFilter{SearchKeywords: []string{kw}},
			})
			if err != nil {
				return false, err
			}
			return slices.ContainsFunc(page.AccessRequests, func(r *types.AccessRequestV3) bool { return r.GetName() == created.GetName() }), nil
		}
		for kw, want := range map[string]bool{"AUDITOR": true, created.GetName()[24:]: true, "zebra": false, "pending": false} {
			got, err := found(kw)
			if err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("keyword %q found the request: %v, want %v", kw, got, want)
			}
		}
		return nil
	})

	step("renewal-without-expiry", func() error {
		pub, err := newTLSPublicKey()
		if err != nil {
			return err
		}
		_, err = alice.GenerateUserCerts(ctx, proto.UserCertsRequest{TLSPublicKey: pub, Username: "alice"})
		return expectAccessDenied(err, "access denied: client credentials have expired, please relogin.")
	})

	// desiredAccessInfoForRoleRequest, CheckImpersonateRoles.
	step("role-impersonation", func() error {
		pub, err := newTLSPublicKey()
		if err != nil {
			return err
		}
		expires := time.Now().Add(time.Hour).UTC()
		_, err = alice.GenerateUserCerts(ctx, proto.UserCertsRequest{
			TLSPublicKey: pub, Username: "alice", Expires: expires, RoleRequests: []string{"auditor"}, UseRoleRequests: true,
		})
		if err := expectAccessDenied(err, `user "alice" has requested role impersonation for ["auditor"]`); err != nil {
			return err
		}
		certs, err := ci.GenerateUserCerts(ctx, proto.UserCertsRequest{
			TLSPublicKey: pub, Username: "ci", Expires: expires, RoleRequests: []string{"auditor"}, UseRoleRequests: true,
		})
		if err != nil {
			return err
		}
		block, _ := pem.Decode(certs.TLS)
		if block == nil {
			return errors.New("Certs.TLS is not PEM")
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return err
		}
		if !slices.Equal(cert.Subject.Organization, []string{"auditor"}) {
			return fmt.Errorf("roles (O) %v, want only auditor", cert.Subject.Organization)
		}
		attrs := map[string]string{}
		for _, n := range cert.Subject.Names {
			if s, ok := n.Value.(string); ok {
				attrs[n.Type.String()] = s
			}
		}
		if attrs[oidImpersonator.String()] != "ci" || attrs[oidDisallowReissue.String()] != "true" {
			return fmt.Errorf("impersonator %q, disallow reissue %q; want ci and true", attrs[oidImpersonator.String()], attrs[oidDisallowReissue.String()])
		}
		return nil
	})
}

func next(w types.Watcher) (types.Event, error) {
	select {
	case ev := <-w.Events():
		return ev, nil
	case <-w.Done():
		return types.Event{}, fmt.Errorf("watcher closed: %v", w.Error())
	case <-time.After(15 * time.Second):
		return types.Event{}, errors.New("no event within 15s")
	}
}

func resourceName(ev types.Event) string {
	if ev.Resource == nil {
		return ""
	}
	return ev.Resource.GetKind() + "/" + ev.Resource.GetName()
}

func newTLSPublicKey() ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
