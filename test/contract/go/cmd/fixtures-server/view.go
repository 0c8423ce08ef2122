package main

import (
	"time"

	"github.com/gravitational/teleport/api/client/proto"
	"github.com/gravitational/teleport/api/types"
)

// The views below turn decoded Go values into JSON whose keys match the
// camelCase names of our generated TypeScript types, so the TypeScript side
// can compare field by field without a translation table. Timestamps are
// {seconds, nanos} to keep nanosecond precision; nil pointers become null.

type obj = map[string]any

func tsView(t time.Time) obj {
	return obj{"seconds": t.Unix(), "nanos": t.Nanosecond()}
}

func tsPtrView(t *time.Time) any {
	if t == nil {
		return nil
	}
	return tsView(*t)
}

func strs(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func traitsView(m map[string][]string) obj {
	out := obj{}
	for k, v := range m {
		out[k] = strs(v)
	}
	return out
}

func metadataView(m types.Metadata) obj {
	labels := obj{}
	for k, v := range m.Labels {
		labels[k] = v
	}
	return obj{
		"name":        m.Name,
		"namespace":   m.Namespace,
		"description": m.Description,
		"labels":      labels,
		"expires":     tsPtrView(m.Expires),
		"revision":    m.Revision,
	}
}

func accessListView(p *types.PromotedAccessList) any {
	if p == nil {
		return nil
	}
	return obj{"name": p.Name, "title": p.Title}
}

func resourceIDView(id types.ResourceID) obj {
	return obj{
		"clusterName":     id.ClusterName,
		"kind":            id.Kind,
		"name":            id.Name,
		"subResourceName": id.SubResourceName,
		// Go's own string form, to compare with our formatter.
		"string": types.ResourceIDToString(id),
	}
}

func reviewView(r types.AccessReview) obj {
	idx := r.ThresholdIndexes
	if idx == nil {
		idx = []uint32{}
	}
	return obj{
		"author":            r.Author,
		"roles":             strs(r.Roles),
		"proposedState":     int32(r.ProposedState),
		"proposedStateName": r.ProposedState.String(),
		"reason":            r.Reason,
		"created":           tsView(r.Created),
		"annotations":       traitsView(r.Annotations),
		"thresholdIndexes":  idx,
		"accessList":        accessListView(r.AccessList),
		"assumeStartTime":   tsPtrView(r.AssumeStartTime),
	}
}

func accessRequestView(r *types.AccessRequestV3) obj {
	s := r.Spec
	thresholds := []obj{}
	for _, t := range s.Thresholds {
		thresholds = append(thresholds, obj{"name": t.Name, "filter": t.Filter, "approve": t.Approve, "deny": t.Deny})
	}
	rtm := obj{}
	for role, sets := range s.RoleThresholdMapping {
		out := []obj{}
		for _, set := range sets.Sets {
			idx := set.Indexes
			if idx == nil {
				idx = []uint32{}
			}
			out = append(out, obj{"indexes": idx})
		}
		rtm[role] = obj{"sets": out}
	}
	reviews := []obj{}
	for _, rv := range s.Reviews {
		reviews = append(reviews, reviewView(rv))
	}
	ids := []obj{}
	for _, id := range s.RequestedResourceIDs {
		ids = append(ids, resourceIDView(id))
	}
	return obj{
		"kind":     r.Kind,
		"subKind":  r.SubKind,
		"version":  r.Version,
		"metadata": metadataView(r.Metadata),
		// When Go says a pending request lapses: spec.ResourceExpiry, else metadata.Expires.
		"expiry": tsView(r.Expiry()),
		"spec": obj{
			"user":                 s.User,
			"roles":                strs(s.Roles),
			"state":                int32(s.State),
			"stateName":            s.State.String(),
			"created":              tsView(s.Created),
			"expires":              tsView(s.Expires),
			"requestReason":        s.RequestReason,
			"resolveReason":        s.ResolveReason,
			"resolveAnnotations":   traitsView(s.ResolveAnnotations),
			"systemAnnotations":    traitsView(s.SystemAnnotations),
			"thresholds":           thresholds,
			"roleThresholdMapping": rtm,
			"reviews":              reviews,
			"suggestedReviewers":   strs(s.SuggestedReviewers),
			"requestedResourceIds": ids,
			"loginHint":            s.LoginHint,
			"dryRun":               s.DryRun,
			"maxDuration":          tsView(s.MaxDuration),
			"sessionTtl":           tsView(s.SessionTTL),
			"accessList":           accessListView(s.AccessList),
			"assumeStartTime":      tsPtrView(s.AssumeStartTime),
			"resourceExpiry":       tsPtrView(s.ResourceExpiry),
		},
	}
}

func filterView(f *types.AccessRequestFilter) obj {
	if f == nil {
		return nil
	}
	return obj{
		"id":             f.ID,
		"user":           f.User,
		"state":          int32(f.State),
		"searchKeywords": strs(f.SearchKeywords),
		"scope":          int32(f.Scope),
		"requester":      f.Requester,
	}
}

func stateSetterView(s *proto.RequestStateSetter) obj {
	return obj{
		"id":              s.ID,
		"state":           int32(s.State),
		"stateName":       s.State.String(),
		"delegator":       s.Delegator,
		"reason":          s.Reason,
		"annotations":     traitsView(s.Annotations),
		"roles":           strs(s.Roles),
		"assumeStartTime": tsPtrView(s.AssumeStartTime),
	}
}

func watchView(w *proto.Watch) obj {
	kinds := []obj{}
	for _, k := range w.Kinds {
		filter := obj{}
		for key, v := range k.Filter {
			filter[key] = v
		}
		// Run Teleport's own parser over the filter map so the test learns
		// whether a real auth server would accept it.
		var f types.AccessRequestFilter
		parseErr := ""
		if k.Kind == types.KindAccessRequest {
			if err := f.FromMap(k.Filter); err != nil {
				parseErr = err.Error()
			}
		}
		kinds = append(kinds, obj{
			"kind":           k.Kind,
			"subKind":        k.SubKind,
			"name":           k.Name,
			"loadSecrets":    k.LoadSecrets,
			"version":        k.Version,
			"filter":         filter,
			"filterParseErr": parseErr,
			"parsedFilter":   filterView(&f),
		})
	}
	return obj{"kinds": kinds, "allowPartialSuccess": w.AllowPartialSuccess}
}
