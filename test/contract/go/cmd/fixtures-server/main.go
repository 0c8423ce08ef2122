// Command fixtures-server serves a fixed set of access requests, encoded by
// Teleport's own Go types, over Teleport's AuthService gRPC API with mTLS.
// It records what it decodes from each call so a test can check what a
// client really put on the wire.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/gravitational/teleport/api"
	"github.com/gravitational/teleport/api/client/proto"
	"github.com/gravitational/teleport/api/types"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

func main() {
	credsDir := flag.String("creds-dir", "", "directory to write the client trio (auth.crt, auth.key, auth.cas) into")
	recordPath := flag.String("record", "", "file to append one JSON line per decoded call to")
	keyKind := flag.String("key", "ecdsa", "client key type: ecdsa (PKCS#8 PEM) or rsa (PKCS#1 PEM)")
	dump := flag.Bool("dump", false, "print the fixtures as JSON and exit")
	flag.Parse()

	fixtures := buildFixtures()
	if *dump {
		views := make([]obj, 0, len(fixtures))
		for _, f := range fixtures {
			views = append(views, accessRequestView(f))
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(obj{"cluster": fixtureCluster, "requests": views}); err != nil {
			fail(err)
		}
		return
	}
	if *credsDir == "" || *recordPath == "" {
		fail(fmt.Errorf("-creds-dir and -record are required"))
	}

	p := newPKI(fixtureCluster)
	clientKey := newKey(*keyKind)
	clientCert, err := p.issueClient("alice", []string{"requester"}, fixtureCluster, clientKey.Public(), nil)
	if err != nil {
		fail(err)
	}
	if err := os.WriteFile(filepath.Join(*credsDir, "auth.crt"), clientCert, 0o600); err != nil {
		fail(err)
	}
	if err := writePrivate(filepath.Join(*credsDir, "auth.key"), keyPEM(clientKey)); err != nil {
		fail(err)
	}
	if err := os.WriteFile(filepath.Join(*credsDir, "auth.cas"), p.caPEM, 0o600); err != nil {
		fail(err)
	}

	rec, err := os.OpenFile(*recordPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		fail(err)
	}
	defer rec.Close()

	pool := x509.NewCertPool()
	pool.AddCert(p.caCert)
	tlsConf := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{p.serverCert}, PrivateKey: p.serverKey}},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(tlsConf)))
	proto.RegisterAuthServiceServer(srv, &authServer{fixtures: fixtures, rec: rec, pki: p})
	fmt.Printf("listening on %s\n", lis.Addr())
	if err := srv.Serve(lis); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "fixtures-server:", err)
	os.Exit(1)
}

type authServer struct {
	proto.UnimplementedAuthServiceServer
	fixtures []*types.AccessRequestV3
	pki      *pki
	mu       sync.Mutex
	rec      *os.File
}

// record writes the call before the reply goes out, so a client that has
// its answer can read the line.
func (s *authServer) record(ctx context.Context, method string, decoded any) error {
	line, err := json.Marshal(obj{"method": method, "caller": callerOf(ctx), "decoded": decoded})
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.rec.Write(append(line, '\n')); err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	return nil
}

func callerOf(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return ""
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 {
		return ""
	}
	return info.State.VerifiedChains[0][0].Subject.CommonName
}

func (s *authServer) matching(f *types.AccessRequestFilter) []*types.AccessRequestV3 {
	var out []*types.AccessRequestV3
	for _, r := range s.fixtures {
		if f != nil && f.ID != "" && f.ID != r.GetName() {
			continue
		}
		if f != nil && f.User != "" && f.User != r.GetUser() {
			continue
		}
		if f != nil && !f.State.IsNone() && f.State != r.GetState() {
			continue
		}
		out = append(out, r)
	}
	return out
}

func (s *authServer) find(id string) *types.AccessRequestV3 {
	for _, r := range s.fixtures {
		if r.GetName() == id {
			return r
		}
	}
	return nil
}

func (s *authServer) Ping(ctx context.Context, _ *proto.PingRequest) (*proto.PingResponse, error) {
	if err := s.record(ctx, "Ping", obj{}); err != nil {
		return nil, err
	}
	remote := ""
	if p, ok := peer.FromContext(ctx); ok {
		remote = p.Addr.String()
	}
	return &proto.PingResponse{
		ClusterName:             fixtureCluster,
		ServerVersion:           api.Version,
		ServerFeatures:          &proto.Features{AdvancedAccessWorkflows: true, IdentityGovernance: true},
		ProxyPublicAddr:         "proxy.contract.example.com:443",
		RemoteAddr:              remote,
		SignatureAlgorithmSuite: types.SignatureAlgorithmSuite_SIGNATURE_ALGORITHM_SUITE_BALANCED_V1,
	}, nil
}

func (s *authServer) GetAccessRequestsV2(f *types.AccessRequestFilter, stream proto.AuthService_GetAccessRequestsV2Server) error {
	if err := s.record(stream.Context(), "GetAccessRequestsV2", filterView(f)); err != nil {
		return err
	}
	for _, r := range s.matching(f) {
		if err := stream.Send(r); err != nil {
			return err
		}
	}
	return nil
}

func (s *authServer) ListAccessRequests(ctx context.Context, req *proto.ListAccessRequestsRequest) (*proto.ListAccessRequestsResponse, error) {
	err := s.record(ctx, "ListAccessRequests", obj{
		"filter":     filterView(req.Filter),
		"sort":       int32(req.Sort),
		"descending": req.Descending,
		"limit":      req.Limit,
		"startKey":   req.StartKey,
	})
	if err != nil {
		return nil, err
	}
	return &proto.ListAccessRequestsResponse{AccessRequests: s.matching(req.Filter)}, nil
}

func (s *authServer) CreateAccessRequestV2(ctx context.Context, req *types.AccessRequestV3) (*types.AccessRequestV3, error) {
	if err := s.record(ctx, "CreateAccessRequestV2", accessRequestView(req)); err != nil {
		return nil, err
	}
	out := req.Copy().(*types.AccessRequestV3)
	if out.GetName() == "" {
		out.SetName("0194a6b0-0000-7000-8000-0000000000ff")
	}
	if err := out.CheckAndSetDefaults(); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if out.GetCreationTime().IsZero() {
		out.SetCreationTime(time.Now().UTC())
	}
	return out, nil
}

func (s *authServer) SubmitAccessReview(ctx context.Context, sub *types.AccessReviewSubmission) (*types.AccessRequestV3, error) {
	if err := s.record(ctx, "SubmitAccessReview", obj{"requestId": sub.RequestID, "review": reviewView(sub.Review)}); err != nil {
		return nil, err
	}
	r := s.find(sub.RequestID)
	if r == nil {
		return nil, status.Errorf(codes.NotFound, "access request %q not found", sub.RequestID)
	}
	out := r.Copy().(*types.AccessRequestV3)
	out.SetReviews(append(slices.Clone(out.GetReviews()), sub.Review))
	return out, nil
}

func (s *authServer) SetAccessRequestState(ctx context.Context, req *proto.RequestStateSetter) (*emptypb.Empty, error) {
	if err := s.record(ctx, "SetAccessRequestState", stateSetterView(req)); err != nil {
		return nil, err
	}
	if s.find(req.ID) == nil {
		return nil, status.Errorf(codes.NotFound, "access request %q not found", req.ID)
	}
	return &emptypb.Empty{}, nil
}

func (s *authServer) DeleteAccessRequest(ctx context.Context, req *proto.RequestID) (*emptypb.Empty, error) {
	if err := s.record(ctx, "DeleteAccessRequest", obj{"id": req.ID}); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

func (s *authServer) GetAccessCapabilities(ctx context.Context, req *types.AccessCapabilitiesRequest) (*types.AccessCapabilities, error) {
	ids := []obj{}
	for _, id := range req.ResourceIDs {
		ids = append(ids, resourceIDView(id))
	}
	err := s.record(ctx, "GetAccessCapabilities", obj{
		"user":                             req.User,
		"requestableRoles":                 req.RequestableRoles,
		"suggestedReviewers":               req.SuggestedReviewers,
		"resourceIds":                      ids,
		"login":                            req.Login,
		"filterRequestableRolesByResource": req.FilterRequestableRolesByResource,
	})
	if err != nil {
		return nil, err
	}
	return &types.AccessCapabilities{
		RequestableRoles:            []string{"auditor", "dba"},
		SuggestedReviewers:          []string{"bob", "carol"},
		ApplicableRolesForResources: []string{"node-access"},
		RequestPrompt:               "Which ticket is this for?",
		RequireReason:               true,
	}, nil
}

func (s *authServer) GenerateUserCerts(ctx context.Context, req *proto.UserCertsRequest) (*proto.Certs, error) {
	err := s.record(ctx, "GenerateUserCerts", obj{
		"username":           req.Username,
		"expires":            tsView(req.Expires),
		"routeToCluster":     req.RouteToCluster,
		"accessRequests":     strs(req.AccessRequests),
		"dropAccessRequests": strs(req.DropAccessRequests),
		"useRoleRequests":    req.UseRoleRequests,
		"roleRequests":       strs(req.RoleRequests),
		"usage":              int32(req.Usage),
		"hasTlsPublicKey":    len(req.TLSPublicKey) > 0,
		"hasSshPublicKey":    len(req.SSHPublicKey) > 0,
		"hasLegacyPublicKey": len(req.PublicKey) > 0, //nolint:staticcheck // recording whether the deprecated field is used
	})
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(req.TLSPublicKey)
	if block == nil {
		return nil, status.Error(codes.InvalidArgument, "TLSPublicKey is not PEM")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, "TLSPublicKey: "+err.Error())
	}
	certPEM, err := s.pki.issueClient(callerOf(ctx), []string{"requester"}, fixtureCluster, pub, req.AccessRequests)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &proto.Certs{TLS: certPEM, TLSCACerts: [][]byte{s.pki.caPEM}}, nil
}

func (s *authServer) WatchEvents(w *proto.Watch, stream proto.AuthService_WatchEventsServer) error {
	if err := s.record(stream.Context(), "WatchEvents", watchView(w)); err != nil {
		return err
	}
	init := &proto.Event{
		Type: proto.Operation_INIT,
		Resource: &proto.Event_WatchStatus{WatchStatus: &types.WatchStatusV1{
			Kind:     types.KindWatchStatus,
			Version:  types.V1,
			Metadata: types.Metadata{Name: "watch-status"},
			Spec:     types.WatchStatusSpecV1{Kinds: w.Kinds},
		}},
	}
	if err := stream.Send(init); err != nil {
		return err
	}
	put := s.fixtures[0]
	for _, k := range w.Kinds {
		if id := k.Filter["id"]; id != "" {
			if r := s.find(id); r != nil {
				put = r
			}
		}
	}
	if err := stream.Send(&proto.Event{Type: proto.Operation_PUT, Resource: &proto.Event_AccessRequest{AccessRequest: put}}); err != nil {
		return err
	}
	// Deletes carry only a header, as Teleport sends them.
	del := &proto.Event{Type: proto.Operation_DELETE, Resource: &proto.Event_ResourceHeader{ResourceHeader: &types.ResourceHeader{
		Kind:     types.KindAccessRequest,
		Version:  types.V3,
		Metadata: types.Metadata{Name: put.GetName(), Namespace: "default"},
	}}}
	if err := stream.Send(del); err != nil {
		return err
	}
	<-stream.Context().Done()
	return nil
}
