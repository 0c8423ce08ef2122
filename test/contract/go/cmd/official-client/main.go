// Command official-client drives a server through Teleport's official Go API
// client, the way tsh, tctl and access plugins do, and prints one line per
// step: "ok <step>" or "FAIL <step>: <error>". It exits non-zero on the first
// failure, since later steps build on earlier ones.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gravitational/teleport/api/client"
	"github.com/gravitational/teleport/api/client/proto"
	"github.com/gravitational/teleport/api/types"
	"github.com/gravitational/trace"
	"github.com/gravitational/trace/trail"
)

var oidActiveRequests = asn1.ObjectIdentifier{1, 3, 9999, 2, 8}

type options struct {
	addr, cluster, role                   string
	alice, bob, carol, admin              string
	denied, ci                            string
	trioCert, trioKey, trioCAs, identOnly string
	list                                  bool
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "", "server address HOST:PORT")
	flag.StringVar(&o.cluster, "cluster", "", "expected cluster name")
	flag.StringVar(&o.role, "role", "dba", "role alice requests")
	flag.StringVar(&o.alice, "alice", "", "identity file of the requester")
	flag.StringVar(&o.bob, "bob", "", "identity file of the first reviewer")
	flag.StringVar(&o.carol, "carol", "", "identity file of the second reviewer")
	flag.StringVar(&o.admin, "admin", "", "identity file of the administrator")
	flag.StringVar(&o.denied, "denied", "", "identity file of a requester whose roles deny create and list on access_request")
	flag.StringVar(&o.ci, "ci", "", "identity file of a user who may impersonate the role auditor")
	flag.StringVar(&o.trioCert, "tls-cert", "", "credentials mode: TLS certificate of a trio")
	flag.StringVar(&o.trioKey, "tls-key", "", "credentials mode: TLS key of a trio")
	flag.StringVar(&o.trioCAs, "tls-cas", "", "credentials mode: CA bundle of a trio")
	flag.StringVar(&o.identOnly, "identity", "", "credentials mode: identity file to ping with")
	flag.BoolVar(&o.list, "list", false, "list mode: print every request -identity may see as JSON (the start-up benchmark's Go baseline)")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	if o.list {
		runList(ctx, o)
		return
	}
	if o.trioCert != "" || o.identOnly != "" {
		runCredentials(ctx, o)
		return
	}
	runScenario(ctx, o)
}

func step(name string, fn func() error) {
	if err := fn(); err != nil {
		fmt.Printf("FAIL %s: %s\n", name, strings.ReplaceAll(err.Error(), "\n", " | "))
		os.Exit(1)
	}
	fmt.Printf("ok %s\n", name)
}

func connect(ctx context.Context, addr string, creds client.Credentials) (*client.Client, error) {
	return client.New(ctx, client.Config{
		Addrs:            []string{addr},
		Credentials:      []client.Credentials{creds},
		DialInBackground: false,
		DialTimeout:      10 * time.Second,
	})
}

// runCredentials checks that credential files load with the official loaders and
// authenticate for what an access plugin does first: ping, list and watch requests.
func runCredentials(ctx context.Context, o options) {
	check := func(creds client.Credentials) error {
		clt, err := connect(ctx, o.addr, creds)
		if err != nil {
			return err
		}
		defer clt.Close()
		resp, err := clt.Ping(ctx)
		if err != nil {
			return err
		}
		if o.cluster != "" && resp.ClusterName != o.cluster {
			return fmt.Errorf("cluster %q, want %q", resp.ClusterName, o.cluster)
		}
		if _, err := clt.GetAccessRequests(ctx, types.AccessRequestFilter{}); err != nil {
			return fmt.Errorf("list: %w", err)
		}
		w, err := clt.NewWatcher(ctx, types.Watch{Kinds: []types.WatchKind{{Kind: types.KindAccessRequest}}})
		if err != nil {
			return fmt.Errorf("watch: %w", err)
		}
		defer w.Close()
		select {
		case ev := <-w.Events():
			if ev.Type != types.OpInit {
				return fmt.Errorf("first event is %v, want init", ev.Type)
			}
			return nil
		case <-w.Done():
			return fmt.Errorf("watcher closed: %v", w.Error())
		case <-time.After(15 * time.Second):
			return errors.New("no init event within 15s")
		}
	}
	if o.trioCert != "" {
		step("load-key-pair", func() error {
			return check(client.LoadKeyPair(o.trioCert, o.trioKey, o.trioCAs))
		})
	}
	if o.identOnly != "" {
		step("load-identity-file", func() error {
			return check(client.LoadIdentityFile(o.identOnly))
		})
	}
}

// runList does what `access request ls --format json` does, with the official client:
// connect with an identity file, list the requests, print them as one JSON array.
func runList(ctx context.Context, o options) {
	clt, err := connect(ctx, o.addr, client.LoadIdentityFile(o.identOnly))
	if err == nil {
		defer clt.Close()
		var reqs []types.AccessRequest
		if reqs, err = clt.GetAccessRequests(ctx, types.AccessRequestFilter{}); err == nil {
			err = json.NewEncoder(os.Stdout).Encode(reqs)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "list: %v\n", err)
		os.Exit(1)
	}
}

func runScenario(ctx context.Context, o options) {
	var alice, bob, carol, admin *client.Client
	step("connect", func() error {
		var err error
		for _, c := range []struct {
			path string
			dst  **client.Client
		}{{o.alice, &alice}, {o.bob, &bob}, {o.carol, &carol}, {o.admin, &admin}} {
			if *c.dst, err = connect(ctx, o.addr, client.LoadIdentityFile(c.path)); err != nil {
				return fmt.Errorf("%s: %w", c.path, err)
			}
		}
		return nil
	})
	defer func() {
		for _, c := range []*client.Client{alice, bob, carol, admin} {
			c.Close()
		}
	}()

	step("ping", func() error {
		resp, err := alice.Ping(ctx)
		if err != nil {
			return err
		}
		if resp.ClusterName == "" || (o.cluster != "" && resp.ClusterName != o.cluster) {
			return fmt.Errorf("cluster name %q, want %q", resp.ClusterName, o.cluster)
		}
		if resp.ServerVersion == "" {
			return errors.New("empty server version")
		}
		return nil
	})

	// lib/auth/auth_with_roles.go, hasWatchPermissionForKind: a requester without rules may
	// watch access requests only with its own name in the filter.
	step("watch-refused-without-user-filter", func() error {
		w, err := alice.NewWatcher(ctx, types.Watch{Kinds: []types.WatchKind{{Kind: types.KindAccessRequest}}})
		if err != nil {
			return expectAccessDenied(err, `access denied to perform action "read" on "access_request"`)
		}
		defer w.Close()
		select {
		case ev := <-w.Events():
			return fmt.Errorf("watch without a user filter was accepted (first event %v)", ev.Type)
		case <-w.Done():
			return expectAccessDenied(w.Error(), `access denied to perform action "read" on "access_request"`)
		case <-time.After(15 * time.Second):
			return errors.New("no refusal within 15s")
		}
	})

	step("watch-own-requests", func() error {
		filter := types.AccessRequestFilter{User: "alice"}
		w, err := alice.NewWatcher(ctx, types.Watch{Kinds: []types.WatchKind{{Kind: types.KindAccessRequest, Filter: filter.IntoMap()}}})
		if err != nil {
			return err
		}
		defer w.Close()
		select {
		case ev := <-w.Events():
			if ev.Type != types.OpInit {
				return fmt.Errorf("first event is %v, want init", ev.Type)
			}
			return nil
		case <-w.Done():
			return fmt.Errorf("watcher closed: %v", w.Error())
		case <-time.After(15 * time.Second):
			return errors.New("no init event within 15s")
		}
	})

	var reqID string
	step("create", func() error {
		req, err := types.NewAccessRequest(uuid.NewString(), "alice", o.role)
		if err != nil {
			return err
		}
		req.SetRequestReason("contract test: official client")
		created, err := alice.CreateAccessRequestV2(ctx, req)
		if err != nil {
			return err
		}
		reqID = created.GetName()
		switch {
		case reqID == "":
			return errors.New("created request has no ID")
		case created.GetUser() != "alice":
			return fmt.Errorf("user %q", created.GetUser())
		case !created.GetState().IsPending():
			return fmt.Errorf("state %s", created.GetState())
		case !slices.Equal(created.GetRoles(), []string{o.role}):
			return fmt.Errorf("roles %v", created.GetRoles())
		case created.GetRequestReason() != "contract test: official client":
			return fmt.Errorf("reason %q", created.GetRequestReason())
		case created.GetCreationTime().IsZero() || time.Since(created.GetCreationTime()) > time.Minute:
			return fmt.Errorf("creation time %v", created.GetCreationTime())
		case !created.GetAccessExpiry().After(time.Now()):
			return fmt.Errorf("access expiry %v", created.GetAccessExpiry())
		case !created.Expiry().After(time.Now()):
			// What plugins read as the pending request's end (resource expiry, else metadata).
			return fmt.Errorf("pending expiry %v", created.Expiry())
		}
		return nil
	})

	step("get-filtered", func() error {
		// GetAccessRequests goes through ListAccessRequests and falls back
		// to GetAccessRequestsV2 only on NotImplemented.
		reqs, err := alice.GetAccessRequests(ctx, types.AccessRequestFilter{ID: reqID})
		if err != nil {
			return err
		}
		if len(reqs) != 1 || reqs[0].GetName() != reqID {
			return fmt.Errorf("got %d requests", len(reqs))
		}
		if reqs[0].GetRequestReason() != "contract test: official client" {
			return fmt.Errorf("reason %q", reqs[0].GetRequestReason())
		}
		return nil
	})

	step("get-v2-stream", func() error {
		stream, err := proto.NewAuthServiceClient(alice.GetConnection()).GetAccessRequestsV2(ctx, &types.AccessRequestFilter{ID: reqID})
		if err != nil {
			return err
		}
		var got []*types.AccessRequestV3
		for {
			r, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return trace.Wrap(err)
			}
			got = append(got, r)
		}
		if len(got) != 1 || got[0].GetName() != reqID {
			return fmt.Errorf("got %d requests", len(got))
		}
		return nil
	})

	step("list-page-size", func() error {
		// lib/services/access_request_cache.go, ListMatchingAccessRequests: up to
		// maxPageSize (16,000) a page is served, more is refused with BadParameter.
		page, err := alice.ListAccessRequests(ctx, &proto.ListAccessRequestsRequest{Limit: 16_000})
		if err != nil {
			return err
		}
		if len(page.AccessRequests) == 0 {
			return fmt.Errorf("a page of 16000 held no requests")
		}
		_, err = alice.ListAccessRequests(ctx, &proto.ListAccessRequestsRequest{Limit: 16_001})
		if !trace.IsBadParameter(err) {
			return fmt.Errorf("a page of 16001: got %v, want BadParameter", err)
		}
		return nil
	})

	step("list-resources-negative-limit", func() error {
		// The official client refuses this itself (ListResourcesRequest.CheckAndSetDefaults);
		// the raw call asks the server, which runs the same check (ServerWithRoles.ListResources).
		_, err := proto.NewAuthServiceClient(alice.GetConnection()).ListResources(ctx, &proto.ListResourcesRequest{
			ResourceType: types.KindNode, Limit: -1,
		})
		if !trace.IsBadParameter(trail.FromGRPC(err)) {
			return fmt.Errorf("limit -1: got %v, want BadParameter", err)
		}
		return nil
	})

	var watcher types.Watcher
	step("watch-init", func() error {
		filter := types.AccessRequestFilter{ID: reqID}
		var err error
		watcher, err = admin.NewWatcher(ctx, types.Watch{Kinds: []types.WatchKind{{Kind: types.KindAccessRequest, Filter: filter.IntoMap()}}})
		if err != nil {
			return err
		}
		select {
		case ev := <-watcher.Events():
			if ev.Type != types.OpInit {
				return fmt.Errorf("first event is %v, want init", ev.Type)
			}
			if st, ok := ev.Resource.(types.WatchStatus); ok {
				kinds := st.GetKinds()
				if len(kinds) != 1 || kinds[0].Kind != types.KindAccessRequest {
					return fmt.Errorf("watch status kinds %v", kinds)
				}
			}
			return nil
		case <-watcher.Done():
			return fmt.Errorf("watcher closed: %v", watcher.Error())
		case <-time.After(15 * time.Second):
			return errors.New("no init event within 15s")
		}
	})
	defer watcher.Close()

	var final types.AccessRequest
	step("review", func() error {
		for _, r := range []struct {
			name string
			clt  *client.Client
		}{{"bob", bob}, {"carol", carol}} {
			out, err := r.clt.SubmitAccessReview(ctx, types.AccessReviewSubmission{
				RequestID: reqID,
				Review: types.AccessReview{
					Author:        r.name,
					ProposedState: types.RequestState_APPROVED,
					Reason:        "approved by " + r.name,
					Created:       time.Now().UTC(),
				},
			})
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			final = out
			if out.GetState().IsApproved() {
				break
			}
		}
		if !final.GetState().IsApproved() {
			return fmt.Errorf("state after reviews %s", final.GetState())
		}
		revs := final.GetReviews()
		if len(revs) == 0 || revs[0].Author != "bob" || revs[0].Reason != "approved by bob" || !revs[0].ProposedState.IsApproved() {
			return fmt.Errorf("reviews %+v", revs)
		}
		return nil
	})

	step("watch-put-approved", func() error {
		deadline := time.After(15 * time.Second)
		for {
			select {
			case ev := <-watcher.Events():
				if ev.Type != types.OpPut {
					continue
				}
				r, ok := ev.Resource.(types.AccessRequest)
				if !ok {
					return fmt.Errorf("put carries %T", ev.Resource)
				}
				if r.GetName() != reqID {
					return fmt.Errorf("put for %s despite the id filter", r.GetName())
				}
				if r.GetState().IsApproved() {
					return nil
				}
			case <-watcher.Done():
				return fmt.Errorf("watcher closed: %v", watcher.Error())
			case <-deadline:
				return errors.New("no approved put within 15s")
			}
		}
	})

	var secondID string
	step("set-state-denied", func() error {
		req, err := types.NewAccessRequest(uuid.NewString(), "alice", "auditor")
		if err != nil {
			return err
		}
		req.SetRequestReason("second request")
		created, err := alice.CreateAccessRequestV2(ctx, req)
		if err != nil {
			return err
		}
		secondID = created.GetName()
		err = admin.SetAccessRequestState(ctx, types.AccessRequestUpdate{
			RequestID:   secondID,
			State:       types.RequestState_DENIED,
			Reason:      "denied by admin",
			Annotations: map[string][]string{"why": {"freeze"}},
		})
		if err != nil {
			return err
		}
		reqs, err := admin.GetAccessRequests(ctx, types.AccessRequestFilter{ID: secondID})
		if err != nil {
			return err
		}
		if len(reqs) != 1 || !reqs[0].GetState().IsDenied() || reqs[0].GetResolveReason() != "denied by admin" {
			return fmt.Errorf("after set state: %d requests", len(reqs))
		}
		return nil
	})

	step("delete", func() error {
		if err := admin.DeleteAccessRequest(ctx, secondID); err != nil {
			return err
		}
		reqs, err := admin.GetAccessRequests(ctx, types.AccessRequestFilter{ID: secondID})
		if err != nil && !trace.IsNotFound(err) {
			return err
		}
		if len(reqs) != 0 {
			return fmt.Errorf("request still listed after delete")
		}
		return nil
	})

	var certs *proto.Certs
	var key *ecdsa.PrivateKey
	step("generate-user-certs", func() error {
		var err error
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		der, err := x509.MarshalPKIXPublicKey(key.Public())
		if err != nil {
			return err
		}
		certs, err = alice.GenerateUserCerts(ctx, proto.UserCertsRequest{
			TLSPublicKey:   pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
			Username:       "alice",
			Expires:        time.Now().Add(time.Hour).UTC(),
			RouteToCluster: o.cluster,
			AccessRequests: []string{reqID},
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
		if cert.Subject.CommonName != "alice" {
			return fmt.Errorf("CN %q", cert.Subject.CommonName)
		}
		if !slices.Contains(cert.Subject.Organization, o.role) {
			return fmt.Errorf("roles (O) %v lack %s", cert.Subject.Organization, o.role)
		}
		var active []string
		for _, n := range cert.Subject.Names {
			if n.Type.Equal(oidActiveRequests) {
				s, _ := n.Value.(string)
				active = append(active, s)
			}
		}
		if !slices.Equal(active, []string{reqID}) {
			return fmt.Errorf("active requests (1.3.9999.2.8) %v", active)
		}
		if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(key.Public()) {
			return errors.New("certificate is not for the submitted key")
		}
		if len(certs.TLSCACerts) == 0 {
			return errors.New("no TLS CA certificates returned")
		}
		return nil
	})

	step("use-issued-certs", func() error {
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return err
		}
		pair, err := tls.X509KeyPair(certs.TLS, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		for _, ca := range certs.TLSCACerts {
			if !pool.AppendCertsFromPEM(ca) {
				return errors.New("TLSCACerts entry is not PEM")
			}
		}
		clt, err := connect(ctx, o.addr, client.LoadTLS(&tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool}))
		if err != nil {
			return err
		}
		defer clt.Close()
		if _, err := clt.Ping(ctx); err != nil {
			return err
		}
		reqs, err := clt.GetAccessRequests(ctx, types.AccessRequestFilter{ID: reqID})
		if err != nil {
			return err
		}
		if len(reqs) != 1 {
			return fmt.Errorf("elevated alice sees %d requests", len(reqs))
		}
		return nil
	})

	// lib/auth/auth_with_roles.go, generateUserCerts: an identity issued for alice by admin
	// (as `tctl auth sign --user=alice` makes them) carries admin as impersonator and may
	// not assume requests.
	step("impersonated-certs-refused", func() error {
		impKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		der, err := x509.MarshalPKIXPublicKey(impKey.Public())
		if err != nil {
			return err
		}
		pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		signed, err := admin.GenerateUserCerts(ctx, proto.UserCertsRequest{
			TLSPublicKey: pubPEM, Username: "alice", Expires: time.Now().Add(time.Hour).UTC(), RouteToCluster: o.cluster,
		})
		if err != nil {
			return fmt.Errorf("admin signing for alice: %w", err)
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(impKey)
		if err != nil {
			return err
		}
		pair, err := tls.X509KeyPair(signed.TLS, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		for _, ca := range signed.TLSCACerts {
			pool.AppendCertsFromPEM(ca)
		}
		clt, err := connect(ctx, o.addr, client.LoadTLS(&tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool}))
		if err != nil {
			return err
		}
		defer clt.Close()
		_, err = clt.GenerateUserCerts(ctx, proto.UserCertsRequest{
			TLSPublicKey: pubPEM, Username: "alice", Expires: time.Now().Add(time.Hour).UTC(), AccessRequests: []string{reqID},
		})
		if err := expectAccessDenied(err, "access denied: impersonated user can not request new roles"); err != nil {
			return err
		}
		_, err = clt.GenerateUserCerts(ctx, proto.UserCertsRequest{
			TLSPublicKey: pubPEM, Username: "bob", Expires: time.Now().Add(time.Hour).UTC(),
		})
		// alice may impersonate nobody, and Teleport checks that before the impersonator.
		return expectAccessDenied(err, "access denied: impersonation is not allowed")
	})

	// lib/auth/auth_with_roles.go, UpsertLock/GetLocks/DeleteLock: the lock rules; a lock on an
	// access request matches the target, and a second delete is NotFound.
	step("locks", func() error {
		reqName := uuid.NewString()
		lock, err := types.NewLock("contract-"+reqName, types.LockSpecV2{
			Target: types.LockTarget{AccessRequest: reqName}, Message: "contract",
		})
		if err != nil {
			return err
		}
		if err := expectAccessDenied(alice.UpsertLock(ctx, lock), `access denied to perform action "create" on "lock"`); err != nil {
			return err
		}
		if err := admin.UpsertLock(ctx, lock); err != nil {
			return fmt.Errorf("admin upsert: %w", err)
		}
		got, err := admin.GetLocks(ctx, true, types.LockTarget{AccessRequest: reqName})
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].GetName() != lock.GetName() || got[0].Message() != "contract" || got[0].Target().AccessRequest != reqName {
			return fmt.Errorf("GetLocks = %v", got)
		}
		if err := admin.DeleteLock(ctx, lock.GetName()); err != nil {
			return err
		}
		if err := admin.DeleteLock(ctx, lock.GetName()); !trace.IsNotFound(err) {
			return fmt.Errorf("second delete: %v, want NotFound", err)
		}
		return nil
	})

	// lib/auth/users/usersv1/service.go, GetUser: one's own record, another's with read on user,
	// secrets never; plugins read a requester's traits this way for rules on user.traits
	// (lib/accessmonitoring/notification/request_handler.go: getUserTraits).
	step("get-user", func() error {
		self, err := alice.GetUser(ctx, "alice", false)
		if err != nil {
			return fmt.Errorf("own record: %w", err)
		}
		if got := self.GetTraits()["team"]; !slices.Equal(got, []string{"dev"}) {
			return fmt.Errorf("alice's team trait = %v, want [dev]", got)
		}
		if _, err := alice.GetUser(ctx, "bob", false); expectAccessDenied(err, `access denied to perform action "read" on "user"`) != nil {
			return fmt.Errorf("alice reading bob: %v", err)
		}
		other, err := admin.GetUser(ctx, "alice", false)
		if err != nil {
			return fmt.Errorf("admin reading alice: %w", err)
		}
		if !slices.Equal(other.GetRoles(), self.GetRoles()) {
			return fmt.Errorf("roles = %v, want %v", other.GetRoles(), self.GetRoles())
		}
		if _, err := admin.GetUser(ctx, "alice", true); expectAccessDenied(err, "this request can be only executed by an admin") != nil {
			return fmt.Errorf("with secrets: %v", err)
		}
		if _, err := admin.GetUser(ctx, "nobody", false); !trace.IsNotFound(err) {
			return fmt.Errorf("unknown user: %v, want NotFound", err)
		}
		return nil
	})

	runIdentityCenter(ctx, alice)
	runRules(ctx, alice, admin)
	runSecondPass(ctx, o, alice, bob, admin)
}

// expectAccessDenied checks that err is Teleport's AccessDenied carrying want.
func expectAccessDenied(err error, want string) error {
	if err == nil {
		return fmt.Errorf("succeeded, want AccessDenied %q", want)
	}
	if !trace.IsAccessDenied(err) || !strings.Contains(err.Error(), want) {
		return fmt.Errorf("got %v (%T), want AccessDenied %q", err, trace.Unwrap(err), want)
	}
	return nil
}
