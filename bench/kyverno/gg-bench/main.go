// Command gg-bench runs Kyverno's own CEL ValidatingPolicy engine (the packages the Kyverno admission
// controller uses) on AdmissionReviews, so gloo-guard's benchmark compares with the real thing without
// a cluster. It is copied into Kyverno's source tree by bench/kyverno/build.sh and built there, because
// Kyverno's go.mod has replace directives a wrapper module would not honour.
//
// Usage: gg-bench -policy policy.yaml, then one job a line on stdin: "<name> <review.json> <runs>".
// For each job it prints one JSON line: the verdict of the last run, the time of every run (ms, each
// run unmarshals the review and evaluates it, as a webhook would) and the process's peak RSS so far.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	policiesv1beta1 "github.com/kyverno/api/api/policies.kyverno.io/v1beta1"
	celengine "github.com/kyverno/kyverno/pkg/cel/engine"
	"github.com/kyverno/kyverno/pkg/cel/matching"
	"github.com/kyverno/kyverno/pkg/cel/policies/vpol/compiler"
	vpolengine "github.com/kyverno/kyverno/pkg/cel/policies/vpol/engine"
	engineapi "github.com/kyverno/kyverno/pkg/engine/api"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

type verdict struct {
	Allowed  bool     `json:"allowed"`
	Messages []string `json:"messages"`
	Errors   []string `json:"errors"`
	Rules    int      `json:"rules"`
}

type result struct {
	Name      string    `json:"name"`
	Verdict   verdict   `json:"verdict"`
	TimesMs   []float64 `json:"timesMs"`
	MaxRssKiB int64     `json:"maxRssKiB"`
	Error     string    `json:"error,omitempty"`
}

func loadEngine(path string) (vpolengine.Engine, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var policy policiesv1beta1.ValidatingPolicy
	if err := yaml.UnmarshalStrict(raw, &policy); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	provider, err := vpolengine.NewProvider(compiler.NewCompiler(), []policiesv1beta1.ValidatingPolicyLike{&policy}, nil)
	if err != nil {
		return nil, fmt.Errorf("%s does not compile: %w", path, err)
	}
	noNamespace := func(string) *corev1.Namespace { return nil }
	return vpolengine.NewEngine(provider, noNamespace, matching.NewMatcher()), nil
}

// judge does what Kyverno's webhook does with one request body: unmarshal, evaluate, read the rules.
func judge(eng vpolengine.Engine, body []byte) (verdict, error) {
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		return verdict{}, err
	}
	if review.Request == nil {
		return verdict{}, fmt.Errorf("no request in the review")
	}
	resp, err := eng.Handle(context.Background(), celengine.RequestFromAdmission(nil, *review.Request), nil)
	if err != nil {
		return verdict{}, err
	}
	v := verdict{Allowed: true, Messages: []string{}, Errors: []string{}}
	for _, p := range resp.Policies {
		for _, r := range p.Rules {
			v.Rules++
			switch r.Status() {
			case engineapi.RuleStatusFail:
				v.Allowed = false
				v.Messages = append(v.Messages, r.Message())
			case engineapi.RuleStatusError:
				// Kyverno's webhook refuses on a rule error when the policy's failure policy is Fail (the default).
				v.Allowed = false
				v.Errors = append(v.Errors, truncate(r.Message(), 300))
			}
		}
	}
	return v, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// maxRssKiB is the peak RSS of this program (VmHWM): getrusage's maxrss would also count the memory of
// the process that forked it (Linux carries it across exec), which is the whole benchmark driver.
func maxRssKiB() int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kib, _ := strconv.ParseInt(f[1], 10, 64)
			return kib
		}
	}
	return 0
}

func runJob(eng vpolengine.Engine, line string) result {
	fields := strings.Fields(line)
	if len(fields) != 3 {
		return result{Name: line, Error: "a job is: <name> <review.json> <runs>"}
	}
	out := result{Name: fields[0], TimesMs: []float64{}}
	runs, err := strconv.Atoi(fields[2])
	if err != nil || runs < 1 {
		out.Error = "runs must be a positive integer"
		return out
	}
	body, err := os.ReadFile(fields[1])
	if err != nil {
		out.Error = err.Error()
		return out
	}
	for i := 0; i < runs; i++ {
		start := time.Now()
		v, err := judge(eng, body)
		out.TimesMs = append(out.TimesMs, float64(time.Since(start).Nanoseconds())/1e6)
		if err != nil {
			out.Error = truncate(err.Error(), 300)
			break
		}
		out.Verdict = v
	}
	out.MaxRssKiB = maxRssKiB()
	return out
}

func main() {
	policyPath := flag.String("policy", "", "the ValidatingPolicy (YAML)")
	flag.Parse()
	eng, err := loadEngine(*policyPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gg-bench: %v\n", err)
		os.Exit(2)
	}
	fmt.Println(`{"ready":true}`)
	in := bufio.NewScanner(os.Stdin)
	enc := json.NewEncoder(os.Stdout)
	for in.Scan() {
		if strings.TrimSpace(in.Text()) == "" {
			continue
		}
		if err := enc.Encode(runJob(eng, in.Text())); err != nil {
			os.Exit(1)
		}
	}
}
