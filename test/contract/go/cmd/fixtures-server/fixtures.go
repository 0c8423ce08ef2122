package main

import (
	"fmt"
	"time"

	"github.com/gravitational/teleport/api/types"
)

// Fixture IDs are fixed so the TypeScript test can address each case.
const (
	idPending   = "0194a6b0-0000-7000-8000-000000000001"
	idApproved  = "0194a6b0-0000-7000-8000-000000000002"
	idResources = "0194a6b0-0000-7000-8000-000000000003"
	idUnset     = "0194a6b0-0000-7000-8000-000000000004"
	idTimes     = "0194a6b0-0000-7000-8000-000000000005"
	idPromoted  = "0194a6b0-0000-7000-8000-000000000006"

	fixtureCluster = "contract.example.com"
)

// at builds a UTC instant; nanos lets a fixture carry sub-millisecond digits.
func at(s string, nanos int) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.Add(time.Duration(nanos)).UTC()
}

func must(r types.AccessRequest, err error) *types.AccessRequestV3 {
	if err != nil {
		panic(err)
	}
	v3, ok := r.(*types.AccessRequestV3)
	if !ok {
		panic(fmt.Sprintf("unexpected type %T", r))
	}
	return v3
}

func setState(r *types.AccessRequestV3, s types.RequestState) {
	if err := r.SetState(s); err != nil {
		panic(err)
	}
}

// buildFixtures returns the requests the server serves, in a stable order.
func buildFixtures() []*types.AccessRequestV3 {
	// (1) Pending, two thresholds, one review.
	pending := must(types.NewAccessRequest(idPending, "alice", "dba", "auditor"))
	pending.SetCreationTime(at("2025-03-04T05:06:07Z", 123_000_000))
	pending.SetExpiry(at("2025-03-05T05:06:07Z", 123_000_000))
	pending.SetAccessExpiry(at("2030-01-02T03:04:05Z", 678_000_000))
	metaExpiry := at("2025-03-05T05:06:07Z", 123_000_000)
	pending.Metadata.Expires = &metaExpiry
	pending.Metadata.Labels = map[string]string{"team": "db"}
	pending.SetRequestReason("need prod db access for INC-42")
	pending.SetSuggestedReviewers([]string{"bob", "carol"})
	pending.SetSystemAnnotations(map[string][]string{"pagerduty_services": {"db-oncall", "infra"}})
	pending.SetLoginHint("dbadmin")
	pending.SetThresholds([]types.AccessReviewThreshold{
		{Name: "default", Approve: 1, Deny: 1},
		{Name: "two", Filter: `contains(reviewer.roles, "dba-reviewer")`, Approve: 2, Deny: 1},
	})
	pending.SetRoleThresholdMapping(map[string]types.ThresholdIndexSets{
		"dba":     {Sets: []types.ThresholdIndexSet{{Indexes: []uint32{0}}, {Indexes: []uint32{1}}}},
		"auditor": {Sets: []types.ThresholdIndexSet{{Indexes: []uint32{0, 1}}}},
	})
	pending.SetReviews([]types.AccessReview{{
		Author:           "bob",
		Roles:            []string{"reviewer", "dba-reviewer"},
		ProposedState:    types.RequestState_APPROVED,
		Reason:           "on call, looks fine",
		Created:          at("2025-03-04T05:10:00Z", 250_000_000),
		Annotations:      map[string][]string{"ticket": {"OPS-1"}, "tags": {"a", "b"}},
		ThresholdIndexes: []uint32{0, 1},
	}})

	// (2) Approved: roles narrowed to a subset, resolve reason and annotations.
	approved := must(types.NewAccessRequest(idApproved, "alice", "dba", "auditor"))
	approved.SetCreationTime(at("2025-03-05T10:00:00Z", 0))
	approved.SetExpiry(at("2030-03-05T10:00:00Z", 0))
	approved.SetAccessExpiry(at("2030-03-05T10:00:00Z", 0))
	approved.SetRequestReason("quarterly audit")
	approved.SetRoles([]string{"auditor"})
	setState(approved, types.RequestState_APPROVED)
	approved.SetResolveReason("approved for auditor only")
	approved.SetResolveAnnotations(map[string][]string{"approved_by": {"admin"}, "scope": {"read", "audit"}})
	approved.SetThresholds([]types.AccessReviewThreshold{{Name: "default", Approve: 1, Deny: 1}})
	approved.SetRoleThresholdMapping(map[string]types.ThresholdIndexSets{
		"dba":     {Sets: []types.ThresholdIndexSet{{Indexes: []uint32{0}}}},
		"auditor": {Sets: []types.ThresholdIndexSet{{Indexes: []uint32{0}}}},
	})
	approved.SetReviews([]types.AccessReview{{
		Author:           "carol",
		Roles:            []string{"reviewer"},
		ProposedState:    types.RequestState_APPROVED,
		Reason:           "ok for auditor",
		Created:          at("2025-03-05T10:05:00Z", 0),
		ThresholdIndexes: []uint32{0},
	}})

	// (3) Resource request: an SSH node, a v18-style namespaced kube
	// resource and a legacy kube pod kind.
	resources := must(types.NewAccessRequestWithResources(idResources, "alice", []string{"node-access"}, []types.ResourceID{
		{ClusterName: fixtureCluster, Kind: types.KindNode, Name: "4f6c1b5e-9b8e-4c59-a4c9-2f1f6d1a7e10"},
		{ClusterName: fixtureCluster, Kind: "kube:ns:pods", Name: "prod-kube", SubResourceName: "default/nginx"},
		{ClusterName: fixtureCluster, Kind: types.KindKubePod, Name: "dev/kube", SubResourceName: "kube-system/coredns"},
	}))
	resources.SetCreationTime(at("2025-03-06T08:00:00Z", 1_000_000))
	resources.SetExpiry(at("2030-03-06T08:00:00Z", 0))
	resources.SetAccessExpiry(at("2030-03-06T08:00:00Z", 0))
	resources.SetRequestReason("debug nginx")
	resources.SetSuggestedReviewers([]string{"carol"})

	// (4) Optional timestamps left unset: Go writes the non-nullable ones as
	// year 1 and leaves the nullable ones off the wire.
	unset := must(types.NewAccessRequest(idUnset, "alice", "dba"))
	unset.SetCreationTime(at("2025-03-07T00:00:00Z", 0))
	unset.SetAccessExpiry(at("2030-03-07T00:00:00Z", 0))
	setState(unset, types.RequestState_DENIED)
	unset.SetResolveReason("not during freeze")

	// (5) Every optional timestamp set, some with sub-millisecond digits.
	times := must(types.NewAccessRequest(idTimes, "alice", "dba"))
	times.SetCreationTime(at("2025-03-08T12:00:00Z", 123_456_789))
	times.SetExpiry(at("2030-04-01T00:00:00Z", 0))
	times.SetAccessExpiry(at("2030-03-08T12:00:00Z", 0))
	times.SetMaxDuration(at("2030-03-10T12:00:00Z", 0))
	times.SetSessionTLL(at("2030-03-08T20:00:00Z", 500_000_000))
	times.SetAssumeStartTime(at("2030-03-09T09:30:00Z", 0))
	start := at("2030-03-09T09:45:00Z", 0)
	times.SetReviews([]types.AccessReview{{
		Author:          "bob",
		Roles:           []string{"reviewer"},
		ProposedState:   types.RequestState_DENIED,
		Reason:          "later please",
		Created:         at("2025-03-08T12:30:00Z", 999_999_999),
		AssumeStartTime: &start,
	}})
	times.SetDryRun(true)

	// (6) Promoted to an access list.
	promoted := must(types.NewAccessRequest(idPromoted, "alice", "dba"))
	promoted.SetCreationTime(at("2025-03-09T00:00:00Z", 0))
	promoted.SetAccessExpiry(at("2030-03-09T00:00:00Z", 0))
	setState(promoted, types.RequestState_PROMOTED)
	promoted.SetPromotedAccessListName("a1b2c3-access-list")
	promoted.SetPromotedAccessListTitle("DB Admins")
	promoted.SetResolveReason("promoted to long-term access")

	return []*types.AccessRequestV3{pending, approved, resources, unset, times, promoted}
}
