// Package shared is the half of the helm-diff harness that does not depend on a Helm major: the
// JSON protocol on stdin/stdout, the batch loop, and the probes that only need Go's standard
// library (strconv.ParseBool, encoding/json's field matching). Each major (../v3, ../v4) supplies
// the Helm calls through the Helm interface, so both are judged by the same driver.
package shared

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ReleaseView is what gloo-guard reads of a release, as Helm decoded it. Nil pointers and maps
// stay null in the output, so "absent" and "empty" remain distinct.
type ReleaseView struct {
	Name      string         `json:"name"`
	Namespace string         `json:"namespace"`
	Version   int            `json:"version"`
	Info      *InfoView      `json:"info"`
	Chart     *ChartView     `json:"chart"`
	Config    map[string]any `json:"config"`
}

// InfoView is the part of release.Info gloo-guard reads.
type InfoView struct {
	Status string `json:"status"`
}

// ChartView is the part of chart.Chart gloo-guard reads.
type ChartView struct {
	Metadata *MetadataView  `json:"metadata"`
	Values   map[string]any `json:"values"`
}

// MetadataView is the part of chart.Metadata gloo-guard reads.
type MetadataView struct {
	Name         string     `json:"name"`
	Version      string     `json:"version"`
	AppVersion   string     `json:"appVersion"`
	Dependencies []*DepView `json:"dependencies"`
}

// DepView is a chart dependency as Helm decoded it (nil elements stay null).
type DepView struct {
	Name       string   `json:"name"`
	Version    string   `json:"version"`
	Repository string   `json:"repository"`
	Condition  string   `json:"condition"`
	Tags       []string `json:"tags"`
	Enabled    bool     `json:"enabled"`
	Alias      string   `json:"alias"`
}

// ValuesCase is a chart given as files (as `helm install DIR` loads them) and the user's values
// given as `-f` files and `--set`, `--set-string`, `--set-json` flags.
type ValuesCase struct {
	Files      map[string]string `json:"files"`
	ValueFiles []string          `json:"valueFiles"`
	Set        []string          `json:"set"`
	SetString  []string          `json:"setString"`
	SetJSON    []string          `json:"setJSON"`
}

// ValuesView is what Helm renders with: .Values after dependencies are processed, and which
// subcharts stay enabled (paths like "parent/child", aliases applied); and what a release of it
// stores: the chart's values and dependencies after ProcessDependencies changed them.
type ValuesView struct {
	Values       map[string]any `json:"values"`
	Enabled      []string       `json:"enabled"`
	ChartValues  map[string]any `json:"chartValues"`
	Dependencies []*DepView     `json:"dependencies"`
}

// Dependencies reads a major's []*chart.Dependency (the same JSON in v3 and v4) as DepViews.
func Dependencies(deps any) ([]*DepView, error) {
	raw, err := json.Marshal(deps)
	if err != nil {
		return nil, err
	}
	var out []*DepView
	return out, json.Unmarshal(raw, &out)
}

// Helm is what each major supplies.
type Helm interface {
	// Version is the Helm module version the binary was built with.
	Version() string
	// ReadRelease reads a Secret or ConfigMap as Helm's storage driver does.
	ReadRelease(kind string, object []byte) (*ReleaseView, error)
	// Values loads the chart, merges user values and processes dependencies as `helm install` does.
	Values(c ValuesCase) (*ValuesView, error)
	// ReadValues reads one values file as Helm does.
	ReadValues(text string) (map[string]any, error)
	// RenderIf renders `{{ if .Values.v }}` with Helm's template engine.
	RenderIf(v any) (bool, error)
}

type request struct {
	Mode  string            `json:"mode"`
	Cases []json.RawMessage `json:"cases"`
}

type result struct {
	OK       any      `json:"ok,omitempty"`
	Error    *string  `json:"error,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// capture collects what Helm logs (v3 with log.Printf, v4 with slog) while one case runs.
var capture bytes.Buffer

func captureLogs() {
	slog.SetDefault(slog.New(slog.NewTextHandler(&capture, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})))
	log.SetOutput(&capture)
	log.SetFlags(0)
}

func logged() []string {
	text := strings.TrimSpace(capture.String())
	capture.Reset()
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

func errorText(err error) *string {
	s := err.Error()
	return &s
}

// Main reads one request from stdin, answers every case, and writes one JSON document to stdout.
func Main(h Helm) {
	captureLogs()
	var req request
	dec := json.NewDecoder(os.Stdin)
	if err := dec.Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "helm-diff: the request is not JSON: %v\n", err)
		os.Exit(2)
	}
	if req.Mode == "version" {
		write(map[string]any{"helm": h.Version()})
		return
	}
	if req.Mode == "fold" {
		write(map[string]any{"helm": h.Version(), "results": foldTable()})
		return
	}
	out := make([]result, 0, len(req.Cases))
	for _, raw := range req.Cases {
		out = append(out, runCase(h, req.Mode, raw))
	}
	write(map[string]any{"helm": h.Version(), "results": out})
}

func write(v any) {
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(os.Stderr, "helm-diff: cannot write the answer: %v\n", err)
		os.Exit(2)
	}
}

func runCase(h Helm, mode string, raw json.RawMessage) (r result) {
	var ok any
	var err error
	// Helm 3.17.3's Secrets driver dereferences a nil release when decoding fails: a panic is Helm's
	// answer for that case (it cannot read the release), not the end of the batch.
	defer func() {
		if p := recover(); p != nil {
			r = result{Error: errorText(fmt.Errorf("helm panicked: %v", p)), Warnings: logged()}
		}
	}()
	switch mode {
	case "release":
		ok, err = releaseCase(h, raw)
	case "values":
		ok, err = valuesCase(h, raw)
	case "truthy":
		ok, err = truthyCase(h, raw)
	default:
		fmt.Fprintf(os.Stderr, "helm-diff: unknown mode %q (release, values, truthy, fold, version)\n", mode)
		os.Exit(2)
	}
	r.Warnings = logged()
	if err != nil {
		r.Error = errorText(err)
		return r
	}
	r.OK = ok
	return r
}

func releaseCase(h Helm, raw json.RawMessage) (any, error) {
	var c struct {
		Object json.RawMessage `json:"object"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("harness: bad release case: %w", err)
	}
	var head struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(c.Object, &head); err != nil {
		return nil, fmt.Errorf("harness: the object is not JSON: %w", err)
	}
	return h.ReadRelease(head.Kind, c.Object)
}

func valuesCase(h Helm, raw json.RawMessage) (any, error) {
	var c ValuesCase
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("harness: bad values case: %w", err)
	}
	return h.Values(c)
}

// truthyCase answers what `{{ if }}` and strconv.ParseBool(fmt.Sprint(v)) decide for one value,
// given as JSON (as a release's values decode: numbers are float64) or as a YAML values file
// whose key `v` holds it (as `-f` reads it).
func truthyCase(h Helm, raw json.RawMessage) (any, error) {
	var c struct {
		JSON json.RawMessage `json:"json"`
		YAML *string         `json:"yaml"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("harness: bad truthy case: %w", err)
	}
	var v any
	if c.YAML != nil {
		vals, err := h.ReadValues(*c.YAML)
		if err != nil {
			return nil, err
		}
		v = vals["v"]
	} else if err := json.Unmarshal(c.JSON, &v); err != nil {
		return nil, fmt.Errorf("harness: bad JSON value: %w", err)
	}
	isTrue, err := h.RenderIf(v)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"if": isTrue, "sprint": fmt.Sprint(v), "parseBool": nil}
	if b, perr := strconv.ParseBool(fmt.Sprint(v)); perr == nil {
		out["parseBool"] = b
	}
	return out, nil
}

// foldChars are the ASCII characters that occur in the JSON names of Helm's release structs.
const foldChars = "abcdefghijklmnopqrstuvwxyz0123456789-_"

// foldTable asks encoding/json itself which non-ASCII runes, as a one-character key, fill a struct
// field whose JSON name is one ASCII character: the runes Go folds onto ASCII names.
func foldTable() []map[string]any {
	fields := make([]reflect.StructField, 0, len(foldChars))
	for i, c := range foldChars {
		fields = append(fields, reflect.StructField{
			Name: fmt.Sprintf("F%d", i),
			Type: reflect.TypeOf((*int)(nil)),
			Tag:  reflect.StructTag(fmt.Sprintf(`json:"%c"`, c)),
		})
	}
	t := reflect.StructOf(fields)
	var out []map[string]any
	key := make([]byte, 0, 16)
	for r := rune(0x80); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		key = append(key[:0], '{', '"')
		key = utf8.AppendRune(key, r)
		key = append(key, `":1}`...)
		v := reflect.New(t)
		if err := json.Unmarshal(key, v.Interface()); err != nil {
			continue
		}
		for i := range fields {
			if !v.Elem().Field(i).IsNil() {
				out = append(out, map[string]any{"rune": r, "matches": string(foldChars[i])})
			}
		}
	}
	return out
}

// IfTemplate is the template both majors render to judge truthiness.
const IfTemplate = `{{ if .Values.v }}true{{ else }}false{{ end }}`

// IfResult reads what IfTemplate rendered.
func IfResult(rendered string) (bool, error) {
	switch rendered {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("harness: the if template rendered %q", rendered)
}

// WriteCase writes a values case to disk as `helm install DIR -f FILE` reads it: the chart's files
// under dir/chart, each values file as dir/values-N.yaml. It returns the chart dir and the files.
func WriteCase(dir string, c ValuesCase) (string, []string, error) {
	chartDir := filepath.Join(dir, "chart")
	for name, text := range c.Files {
		p := filepath.Join(chartDir, filepath.FromSlash(name))
		if !strings.HasPrefix(p, chartDir+string(filepath.Separator)) {
			return "", nil, fmt.Errorf("harness: chart file %q leaves the chart", name)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", nil, err
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			return "", nil, err
		}
	}
	files := make([]string, 0, len(c.ValueFiles))
	for i, text := range c.ValueFiles {
		p := filepath.Join(dir, fmt.Sprintf("values-%d.yaml", i))
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			return "", nil, err
		}
		files = append(files, p)
	}
	return chartDir, files, nil
}

// ValuesFlags are one major's parsers for the steps of values.Options.MergeValues.
type ValuesFlags struct {
	// Load reads one -f file; Merge puts it over the files before it.
	Load  func(raw []byte) (map[string]any, error)
	Merge func(base, over map[string]any) map[string]any
	// SetJSON applies one --set-json, with the major's own error text.
	SetJSON func(value string, base map[string]any) (map[string]any, error)
	// ParseInto and ParseIntoString are the major's strvals parsers for --set and --set-string.
	ParseInto, ParseIntoString func(value string, base map[string]any) error
}

// MergeValues does what values.Options.MergeValues (pkg/cli/values/options.go) does with -f files
// and --set-json, --set, --set-string, in that order and with its error texts. The files are local
// paths, for which its readFile falls back to os.ReadFile, so the getter providers (and the OCI,
// docker and cli-runtime code they import) are not needed.
func MergeValues(files []string, c ValuesCase, f ValuesFlags) (map[string]any, error) {
	base := map[string]any{}
	for _, path := range files {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		current, err := f.Load(raw)
		if err != nil {
			return nil, fmt.Errorf("failed to parse %s: %w", path, err)
		}
		base = f.Merge(base, current)
	}
	for _, value := range c.SetJSON {
		next, err := f.SetJSON(value, base)
		if err != nil {
			return nil, err
		}
		base = next
	}
	for _, value := range c.Set {
		if err := f.ParseInto(value, base); err != nil {
			return nil, fmt.Errorf("failed parsing --set data: %w", err)
		}
	}
	for _, value := range c.SetString {
		if err := f.ParseIntoString(value, base); err != nil {
			return nil, fmt.Errorf("failed parsing --set-string data: %w", err)
		}
	}
	return base, nil
}
