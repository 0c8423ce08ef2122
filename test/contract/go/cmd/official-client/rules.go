package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/gravitational/teleport/api/client"
	accessmonitoringrulesv1 "github.com/gravitational/teleport/api/gen/proto/go/teleport/accessmonitoringrules/v1"
	headerv1 "github.com/gravitational/teleport/api/gen/proto/go/teleport/header/v1"
	"github.com/gravitational/trace"
	"google.golang.org/protobuf/proto"
)

// runRules drives the Access Monitoring Rules service through
// client.AccessMonitoringRulesClient(), as tctl and the access plugins do.
func runRules(ctx context.Context, alice, admin *client.Client) {
	const name = "contract-route"
	rule := &accessmonitoringrulesv1.AccessMonitoringRule{
		Kind:     "access_monitoring_rule",
		Version:  "v1",
		Metadata: &headerv1.Metadata{Name: name},
		Spec: &accessmonitoringrulesv1.AccessMonitoringRuleSpec{
			Subjects:  []string{"access_request"},
			Condition: `access_request.spec.roles.contains("dba")`,
			Notification: &accessmonitoringrulesv1.Notification{
				Name:       "webhook",
				Recipients: []string{"https://hooks.example.com/dba"},
			},
		},
	}

	step("rule-create", func() error {
		created, err := admin.AccessMonitoringRulesClient().CreateAccessMonitoringRule(ctx, rule)
		if err != nil {
			return err
		}
		if created.GetMetadata().GetName() != name {
			return fmt.Errorf("created %q, want %q", created.GetMetadata().GetName(), name)
		}
		return nil
	})

	step("rule-list", func() error {
		rules, next, err := admin.AccessMonitoringRulesClient().ListAccessMonitoringRules(ctx, 10, "")
		if err != nil {
			return err
		}
		if len(rules) != 1 || rules[0].GetMetadata().GetName() != name || next != "" {
			return fmt.Errorf("listed %d rules (next %q), want only %q", len(rules), next, name)
		}
		filtered, _, err := admin.AccessMonitoringRulesClient().ListAccessMonitoringRulesWithFilter(ctx, 10, "", []string{"access_request"}, "webhook")
		if err != nil {
			return err
		}
		if len(filtered) != 1 {
			return fmt.Errorf("filter by notification webhook listed %d rules, want 1", len(filtered))
		}
		return nil
	})

	step("rule-get", func() error {
		got, err := admin.AccessMonitoringRulesClient().GetAccessMonitoringRule(ctx, name)
		if err != nil {
			return err
		}
		if got.GetSpec().GetCondition() != rule.GetSpec().GetCondition() ||
			got.GetSpec().GetNotification().GetRecipients()[0] != "https://hooks.example.com/dba" {
			return fmt.Errorf("got spec %v", got.GetSpec())
		}
		return nil
	})

	// lib/services/access_monitoring_rules.go ValidateAccessMonitoringRule parses the condition
	// with lib/accessmonitoring's parser (lib/expression DefaultParserSpec).
	languageRule := func(rname, condition string) *accessmonitoringrulesv1.AccessMonitoringRule {
		r := proto.Clone(rule).(*accessmonitoringrulesv1.AccessMonitoringRule)
		r.Metadata.Name = rname
		r.Spec.Condition = condition
		return r
	}
	step("rule-condition-language", func() error {
		cond := `contains_any(union(access_request.spec.roles, set("x")), set("dba")) && ` +
			`access_request.spec.creation_time.after(time.RFC3339("2000-01-01T00:00:00Z")) && ` +
			`!regexp.match(access_request.spec.suggested_reviewers, "^(a+)+$") && ` +
			`ifelse(is_empty(user.traits["team"]), "none", "some") != "" && ` +
			`strings.lower(access_request.spec.user) == "alice"`
		// A string has no .contains: the method takes a set.
		_, err := admin.AccessMonitoringRulesClient().CreateAccessMonitoringRule(ctx,
			languageRule("contract-language", cond+` && access_request.spec.user.contains("alice")`))
		if !trace.IsBadParameter(err) || !strings.Contains(err.Error(), "parsing first argument to (contains)") {
			return fmt.Errorf("got %v, want BadParameter parsing first argument to (contains)", err)
		}
		created, err := admin.AccessMonitoringRulesClient().CreateAccessMonitoringRule(ctx, languageRule("contract-language", cond))
		if err != nil {
			return err
		}
		if created.GetSpec().GetCondition() != cond {
			return fmt.Errorf("stored condition %q", created.GetSpec().GetCondition())
		}
		return admin.AccessMonitoringRulesClient().DeleteAccessMonitoringRule(ctx, "contract-language")
	})

	step("rule-condition-refused", func() error {
		for cond, want := range map[string]string{
			`contains(access_request.spec.roles, "dba")`:                           "unsupported function: contains",
			`equals(access_request.spec.user, "alice")`:                            "unsupported function: equals",
			`invalid-condition`:                                                    `unknown identifier: "invalid"`,
			strings.Repeat(`access_request.spec.user == "u" || `, 15_000) + "true": "characters long",
		} {
			_, err := admin.AccessMonitoringRulesClient().CreateAccessMonitoringRule(ctx, languageRule("contract-bad", cond))
			if !trace.IsBadParameter(err) || !strings.Contains(err.Error(), "accessMonitoringRule condition is invalid: ") ||
				!strings.Contains(err.Error(), want) {
				return fmt.Errorf("condition %.60q: got %v, want BadParameter with %q", cond, err, want)
			}
		}
		return nil
	})

	step("rule-refused-for-requester", func() error {
		_, _, err := alice.AccessMonitoringRulesClient().ListAccessMonitoringRules(ctx, 10, "")
		return expectAccessDenied(err, `access denied to perform action "read" on "access_monitoring_rule"`)
	})

	step("rule-delete", func() error {
		if err := admin.AccessMonitoringRulesClient().DeleteAccessMonitoringRule(ctx, name); err != nil {
			return err
		}
		_, err := admin.AccessMonitoringRulesClient().GetAccessMonitoringRule(ctx, name)
		if !trace.IsNotFound(err) {
			return fmt.Errorf("get after delete: %v, want NotFound", err)
		}
		return nil
	})
}
