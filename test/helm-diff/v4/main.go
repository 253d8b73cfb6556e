// Command helm-diff-v4 answers the helm-diff harness with helm.sh/helm/v4 (see ../README.md).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/cli"
	"helm.sh/helm/v4/pkg/cli/values"
	"helm.sh/helm/v4/pkg/engine"
	"helm.sh/helm/v4/pkg/getter"
	"helm.sh/helm/v4/pkg/release"
	rspb "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/fake"

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
		cs := fake.NewSimpleClientset(&s)
		got, err = driver.NewSecrets(cs.CoreV1().Secrets(s.Namespace)).Get(s.Name)
	case "ConfigMap":
		var c corev1.ConfigMap
		if err := json.Unmarshal(object, &c); err != nil {
			return nil, fmt.Errorf("harness: not a ConfigMap: %w", err)
		}
		cs := fake.NewSimpleClientset(&c)
		got, err = driver.NewConfigMaps(cs.CoreV1().ConfigMaps(c.Namespace)).Get(c.Name)
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
	opts := values.Options{ValueFiles: files, Values: c.Set, StringValues: c.SetString, JSONValues: c.SetJSON}
	vals, err := opts.MergeValues(getter.All(cli.New()))
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
	return &shared.ValuesView{Values: top, Enabled: enabled}, nil
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
