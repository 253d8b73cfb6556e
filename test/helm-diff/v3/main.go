// Command helm-diff-v3 answers the helm-diff harness with helm.sh/helm/v3 (see ../README.md).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	rspb "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	"helm.sh/helm/v3/pkg/strvals"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"helmdiff/shared"
)

type helm3 struct{}

func (helm3) Version() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path == "helm.sh/helm/v3" {
				return m.Version
			}
		}
	}
	return "unknown"
}

func (helm3) ReadRelease(kind string, object []byte) (*shared.ReleaseView, error) {
	var rls *rspb.Release
	var err error
	switch kind {
	case "Secret":
		var s corev1.Secret
		if err := json.Unmarshal(object, &s); err != nil {
			return nil, fmt.Errorf("harness: not a Secret: %w", err)
		}
		rls, err = driver.NewSecrets(secretStore{obj: &s}).Get(s.Name)
	case "ConfigMap":
		var c corev1.ConfigMap
		if err := json.Unmarshal(object, &c); err != nil {
			return nil, fmt.Errorf("harness: not a ConfigMap: %w", err)
		}
		rls, err = driver.NewConfigMaps(configMapStore{obj: &c}).Get(c.Name)
	default:
		return nil, fmt.Errorf("harness: kind %q is neither Secret nor ConfigMap", kind)
	}
	if err != nil {
		return nil, err
	}
	return view(rls), nil
}

func view(r *rspb.Release) *shared.ReleaseView {
	v := &shared.ReleaseView{Name: r.Name, Namespace: r.Namespace, Version: r.Version, Config: r.Config}
	if r.Info != nil {
		v.Info = &shared.InfoView{Status: string(r.Info.Status)}
	}
	if r.Chart != nil {
		v.Chart = &shared.ChartView{Values: r.Chart.Values}
		if md := r.Chart.Metadata; md != nil {
			v.Chart.Metadata = &shared.MetadataView{Name: md.Name, Version: md.Version, AppVersion: md.AppVersion}
			if md.Dependencies != nil {
				v.Chart.Metadata.Dependencies = []*shared.DepView{}
			}
			for _, d := range md.Dependencies {
				if d == nil {
					v.Chart.Metadata.Dependencies = append(v.Chart.Metadata.Dependencies, nil)
					continue
				}
				v.Chart.Metadata.Dependencies = append(v.Chart.Metadata.Dependencies, &shared.DepView{
					Name: d.Name, Version: d.Version, Repository: d.Repository, Condition: d.Condition,
					Tags: d.Tags, Enabled: d.Enabled, Alias: d.Alias,
				})
			}
		}
	}
	return v
}

// Values does what `helm install DIR -f ... --set ...` does before rendering.
func (helm3) Values(c shared.ValuesCase) (*shared.ValuesView, error) {
	dir, err := os.MkdirTemp("", "helm-diff-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	chartDir, files, err := shared.WriteCase(dir, c)
	if err != nil {
		return nil, err
	}
	chrt, err := loader.Load(chartDir)
	if err != nil {
		return nil, err
	}
	vals, err := shared.MergeValues(files, c, flags3)
	if err != nil {
		return nil, err
	}
	if err := chartutil.ProcessDependenciesWithMerge(chrt, vals); err != nil {
		return nil, err
	}
	rel := chartutil.ReleaseOptions{Name: "rel", Namespace: "ns", Revision: 1, IsInstall: true}
	render, err := chartutil.ToRenderValues(chrt, vals, rel, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	top, _ := render["Values"].(chartutil.Values)
	enabled := []string{}
	var walk func(ch *chart.Chart, prefix string)
	walk = func(ch *chart.Chart, prefix string) {
		for _, d := range ch.Dependencies() {
			p := filepath.Join(prefix, d.Name())
			enabled = append(enabled, p)
			walk(d, p)
		}
	}
	walk(chrt, "")
	sort.Strings(enabled)
	deps, err := shared.Dependencies(chrt.Metadata.Dependencies)
	if err != nil {
		return nil, err
	}
	return &shared.ValuesView{Values: top, Enabled: enabled, ChartValues: chrt.Values, Dependencies: deps}, nil
}

func (helm3) ReadValues(text string) (map[string]any, error) {
	return chartutil.ReadValues([]byte(text))
}

func (helm3) RenderIf(v any) (bool, error) {
	ch := &chart.Chart{
		Metadata:  &chart.Metadata{Name: "t", Version: "0.1.0", APIVersion: "v2"},
		Templates: []*chart.File{{Name: "templates/if", Data: []byte(shared.IfTemplate)}},
	}
	rel := chartutil.ReleaseOptions{Name: "rel", Namespace: "ns", Revision: 1, IsInstall: true}
	vals, err := chartutil.ToRenderValues(ch, map[string]any{"v": v}, rel, chartutil.DefaultCapabilities)
	if err != nil {
		return false, err
	}
	out, err := engine.Render(ch, vals)
	if err != nil {
		return false, err
	}
	return shared.IfResult(out["t/templates/if"])
}

func main() { shared.Main(helm3{}) }

// flags3 are Helm 3.17.3's parsers for MergeValues: sigs.k8s.io/yaml for -f files, merged by its
// unexported mergeMaps (below).
var flags3 = shared.ValuesFlags{
	Load: func(raw []byte) (map[string]any, error) {
		current := map[string]any{}
		return current, yaml.Unmarshal(raw, &current)
	},
	Merge: mergeMaps,
	SetJSON: func(value string, base map[string]any) (map[string]any, error) {
		if err := strvals.ParseJSON(value, base); err != nil {
			return nil, fmt.Errorf("failed parsing --set-json data %s", value)
		}
		return base, nil
	},
	ParseInto:       strvals.ParseInto,
	ParseIntoString: strvals.ParseIntoString,
}

// mergeMaps is Helm 3's unexported values merge for -f files: maps merge key by key, anything
// else (including a map over a scalar) replaces.
func mergeMaps(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if v, ok := v.(map[string]any); ok {
			if bv, ok := out[k].(map[string]any); ok {
				out[k] = mergeMaps(bv, v)
				continue
			}
		}
		out[k] = v
	}
	return out
}
