package spec

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
)

// WorkflowID is the Temporal workflow ID of this migration: one running workflow per
// name, so starting the same file twice cannot run two migrations at once.
func (s *Spec) WorkflowID() string { return "sluice-" + s.Name }

// Redacted renders the resolved plan (defaults applied) as a workflow file, for
// `sluice validate`. Passwords appear only as their ${NAME} reference, which is not
// a secret; anything else in a password field (which Validate refuses) is masked.
// The output parses back to the same Spec.
func (s *Spec) Redacted() string {
	r := *s
	r.ApplyDefaults()
	doc := yaml.MapSlice{
		{Key: "name", Value: r.Name},
		{Key: "source", Value: endpointYAML(r.Source)},
		{Key: "destination", Value: endpointYAML(r.Destination)},
		{Key: "types", Value: typesFlow(r.Types)},
		{Key: "objects", Value: objectsYAML(r.Objects)},
		{Key: "options", Value: optionsYAML(r.Options)},
	}
	out, err := yaml.MarshalWithOptions(doc, yaml.Indent(2), yaml.IndentSequence(true), yaml.UseLiteralStyleIfMultiline(true))
	if err != nil {
		// Only plain strings, numbers and lists are rendered; this is not expected.
		return fmt.Sprintf("# cannot render the plan: %v\n", err)
	}
	header := fmt.Sprintf("# Resolved plan of workflow %s (defaults filled in).\n"+
		"# Passwords are ${NAME} references, expanded on the worker; throttle 0 means unlimited.\n", r.WorkflowID())
	return header + string(out)
}

// RedactedPassword is what may be shown of a password field: the reference itself,
// or a mask for anything that is not one.
func (e Endpoint) RedactedPassword() string {
	if e.Password == "" {
		return ""
	}
	if _, ok := e.PasswordRef(); ok {
		return e.Password
	}
	return "<redacted>"
}

func endpointYAML(e Endpoint) yaml.MapSlice {
	m := yaml.MapSlice{
		{Key: "host", Value: e.Host},
		{Key: "port", Value: e.Port},
		{Key: "user", Value: e.User},
	}
	if p := e.RedactedPassword(); p != "" {
		m = append(m, yaml.MapItem{Key: "password", Value: p})
	}
	if e.PasswordFile != "" {
		m = append(m, yaml.MapItem{Key: "password_file", Value: e.PasswordFile})
	}
	tls := yaml.MapSlice{{Key: "mode", Value: e.TLS.Mode}}
	for _, kv := range []struct{ k, v string }{
		{"ca", e.TLS.CA}, {"cert", e.TLS.Cert}, {"key", e.TLS.Key}, {"server_name", e.TLS.ServerName},
	} {
		if kv.v != "" {
			tls = append(tls, yaml.MapItem{Key: kv.k, Value: kv.v})
		}
	}
	return append(m, yaml.MapItem{Key: "tls", Value: tls})
}

func objectsYAML(objs []Object) []yaml.MapSlice {
	out := make([]yaml.MapSlice, 0, len(objs))
	for _, o := range objs {
		m := yaml.MapSlice{{Key: "database", Value: o.Database}}
		if o.To != "" {
			m = append(m, yaml.MapItem{Key: "to", Value: o.To})
		}
		m = append(m, yaml.MapItem{Key: "tables", Value: o.Tables})
		if len(o.ExcludeTables) > 0 {
			m = append(m, yaml.MapItem{Key: "exclude_tables", Value: flowList(o.ExcludeTables)})
		}
		out = append(out, m)
	}
	return out
}

func throttleYAML(t ThrottleLimits, withSourceQPS bool) yaml.MapSlice {
	var m yaml.MapSlice
	if withSourceQPS || t.SourceQPS != 0 {
		m = append(m, yaml.MapItem{Key: "source_qps", Value: t.SourceQPS})
	}
	var mbps any = t.MBPS
	if t.MBPS == math.Trunc(t.MBPS) && math.Abs(t.MBPS) < 1e15 {
		mbps = int64(t.MBPS) // "40", not "40.0"
	}
	return append(m, yaml.MapItem{Key: "rps", Value: t.RPS}, yaml.MapItem{Key: "mbps", Value: mbps})
}

func optionsYAML(o Options) yaml.MapSlice {
	m := yaml.MapSlice{
		{Key: "conflicts", Value: o.Conflicts},
		{Key: "case", Value: o.Case},
		{Key: "triggers", Value: o.Triggers},
		{Key: "online_ddl", Value: o.OnlineDDL},
		{Key: "gh_ost", Value: yaml.MapSlice{
			{Key: "shadow_table", Value: o.GhOst.ShadowTable},
			{Key: "trash_table", Value: o.GhOst.TrashTable},
		}},
		{Key: "accounts", Value: o.Accounts},
		{Key: "etl", Value: yaml.MapSlice{{Key: "on_error", Value: o.ETL.OnError}}},
	}
	if st := o.Incremental.Start; !st.IsZero() {
		var pos yaml.MapSlice
		if st.GTID != "" {
			pos = yaml.MapSlice{{Key: "gtid", Value: st.GTID}}
		} else {
			pos = yaml.MapSlice{{Key: "binlog_file", Value: st.BinlogFile}, {Key: "binlog_pos", Value: st.BinlogPos}}
		}
		m = append(m, yaml.MapItem{Key: "incremental", Value: yaml.MapSlice{{Key: "start", Value: pos}}})
	}
	var full yaml.MapSlice
	if o.Full.Parallel != 0 {
		full = append(full, yaml.MapItem{Key: "parallel", Value: o.Full.Parallel})
	}
	if o.Full.DeferIndexes != nil {
		full = append(full, yaml.MapItem{Key: "defer_indexes", Value: *o.Full.DeferIndexes})
	}
	if len(full) > 0 {
		m = append(m, yaml.MapItem{Key: "full", Value: full})
	}
	m = append(m, yaml.MapSlice{
		{Key: "retry", Value: yaml.MapSlice{
			{Key: "connection", Value: minutes(o.Retry.Connection)},
			{Key: "other", Value: minutes(o.Retry.Other)},
		}},
		{Key: "throttle", Value: yaml.MapSlice{
			{Key: "full", Value: throttleYAML(o.Throttle.Full, true)},
			{Key: "incremental", Value: throttleYAML(o.Throttle.Incremental, false)},
		}},
	}...)
	if len(o.IgnoreWarnings) > 0 {
		m = append(m, yaml.MapItem{Key: "ignore_warnings", Value: flowList(o.IgnoreWarnings)})
	}
	if a := o.Alerts; a.Webhook != "" {
		alerts := yaml.MapSlice{{Key: "webhook", Value: a.Webhook}, {Key: "on_failure", Value: a.AlertOnFailure()}}
		if a.Lag.Threshold > 0 {
			alerts = append(alerts, yaml.MapItem{Key: "lag", Value: yaml.MapSlice{{Key: "threshold", Value: a.Lag.Threshold.String()}, {Key: "for", Value: a.Lag.For.String()}}})
		}
		m = append(m, yaml.MapItem{Key: "alerts", Value: alerts})
	}
	return m
}

// flowList renders a list of short strings on one line, [a, b], as users write them.
type flowList []string

var (
	bareWord     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
	yamlKeywords = map[string]bool{"true": true, "false": true, "null": true, "yes": true, "no": true,
		"on": true, "off": true, "y": true, "n": true}
)

// MarshalYAML quotes every element that is not a plain word: in a flow list a comma
// or bracket inside a bare element would split it (a table may be named "a,b").
func (f flowList) MarshalYAML() ([]byte, error) {
	parts := make([]string, len(f))
	for i, s := range f {
		if bareWord.MatchString(s) && !yamlKeywords[strings.ToLower(s)] {
			parts[i] = s
		} else {
			// Go's escapes (\n, \xNN, \uNNNN) are all valid in YAML double quotes.
			parts[i] = strconv.Quote(s)
		}
	}
	return []byte("[" + strings.Join(parts, ", ") + "]"), nil
}

func typesFlow(ts []MigrationType) flowList {
	out := make(flowList, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}
