// Command helm-diff-v4 answers the helm-diff harness with helm.sh/helm/v4 (see ../README.md).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
	"helm.sh/helm/v4/pkg/release"
	rspb "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	"helm.sh/helm/v4/pkg/strvals"
	corev1 "k8s.io/api/core/v1"

	"helmdiff/shared"
)

type helm4 struct{}

func (helm4) Version() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path == "helm.sh/helm/v4" {
				return m.Version
			}
		}
	}
	return "unknown"
}

func (helm4) ReadRelease(kind string, object []byte) (*shared.ReleaseView, error) {
	var got release.Releaser
	var err error
	switch kind {
	case "Secret":
		var s corev1.Secret
		if err := json.Unmarshal(object, &s); err != nil {
			return nil, fmt.Errorf("harness: not a Secret: %w", err)
		}
		got, err = driver.NewSecrets(secretStore{obj: &s}).Get(s.Name)
	case "ConfigMap":
		var c corev1.ConfigMap
		if err := json.Unmarshal(object, &c); err != nil {
			return nil, fmt.Errorf("harness: not a ConfigMap: %w", err)
		}
		got, err = driver.NewConfigMaps(configMapStore{obj: &c}).Get(c.Name)
	default:
		return nil, fmt.Errorf("harness: kind %q is neither Secret nor ConfigMap", kind)
	}
	if err != nil {
		return nil, err
	}
	rls, ok := got.(*rspb.Release)
	if !ok {
		return nil, fmt.Errorf("harness: the driver returned %T", got)
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
func (helm4) Values(c shared.ValuesCase) (*shared.ValuesView, error) {
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
	vals, err := shared.MergeValues(files, c, flags4)
	if err != nil {
		return nil, err
	}
	if err := chartutil.ProcessDependencies(chrt, vals); err != nil {
		return nil, err
	}
	rel := common.ReleaseOptions{Name: "rel", Namespace: "ns", Revision: 1, IsInstall: true}
	render, err := util.ToRenderValues(chrt, vals, rel, common.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	top, _ := render["Values"].(common.Values)
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

func (helm4) ReadValues(text string) (map[string]any, error) {
	return common.ReadValues([]byte(text))
}

func (helm4) RenderIf(v any) (bool, error) {
	ch := &chart.Chart{
		Metadata:  &chart.Metadata{Name: "t", Version: "0.1.0", APIVersion: "v2"},
		Templates: []*common.File{{Name: "templates/if", Data: []byte(shared.IfTemplate)}},
	}
	rel := common.ReleaseOptions{Name: "rel", Namespace: "ns", Revision: 1, IsInstall: true}
	vals, err := util.ToRenderValues(ch, map[string]any{"v": v}, rel, common.DefaultCapabilities)
	if err != nil {
		return false, err
	}
	out, err := engine.Render(ch, vals)
	if err != nil {
		return false, err
	}
	return shared.IfResult(out["t/templates/if"])
}

func main() { shared.Main(helm4{}) }

// flags4 are Helm 4.3.2's parsers for MergeValues, on its own loader.LoadValues and loader.MergeMaps.
var flags4 = shared.ValuesFlags{
	Load:            func(raw []byte) (map[string]any, error) { return loader.LoadValues(bytes.NewReader(raw)) },
	Merge:           loader.MergeMaps,
	SetJSON:         setJSON,
	ParseInto:       strvals.ParseInto,
	ParseIntoString: strvals.ParseIntoString,
}

// setJSON is Helm 4's --set-json: a JSON object merges into the values, anything else is key=JSON.
func setJSON(value string, base map[string]any) (map[string]any, error) {
	trimmed := strings.TrimSpace(value)
	if trimmed != "" && trimmed[0] == '{' {
		var object map[string]any
		if err := json.Unmarshal([]byte(trimmed), &object); err != nil {
			return nil, fmt.Errorf("failed parsing --set-json data JSON: %s", value)
		}
		return loader.MergeMaps(base, object), nil
	}
	if err := strvals.ParseJSON(value, base); err != nil {
		return nil, fmt.Errorf("failed parsing --set-json data %s", value)
	}
	return base, nil
}
