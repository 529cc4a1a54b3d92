package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/openimis/imis-gateway/gateway"
)

// The checks of deploy/ (README.md, "Deploying on a server"): every file
// names settings serve reads, ports and probes that exist, and passes the
// checker of its kind where this machine has one.

const deployDir = "../../deploy"

// settingsRead are the variables serve reads: those loadServeConfig asks
// for with every provider enabled, and those serve --help lists by name.
func settingsRead(t *testing.T) map[string]bool {
	t.Helper()
	read := map[string]bool{}
	getenv := func(name string) string {
		read[name] = true
		if name == "USSD_PROVIDERS" {
			return "africastalking,hubtel,nalo,arkesel,infobip,beem"
		}
		return ""
	}
	loadServeConfig(getenv, true, "") //nolint:errcheck // only the names asked for matter
	for _, v := range serveEnv {
		for name := range strings.SplitSeq(v[0], ", ") {
			if !strings.Contains(name, "<") {
				read[name] = true
			}
		}
	}
	return read
}

var envLine = regexp.MustCompile(`^(# )?([A-Z][A-Z0-9_]*)=(.*)$`)

// TestDeployEnvFile: the environment file has every setting serve reads and
// no other, and its values make a configuration serve accepts.
func TestDeployEnvFile(t *testing.T) {
	f, err := os.Open(filepath.Join(deployDir, "systemd/imis-gateway.env"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	read := settingsRead(t)
	listed := map[string]bool{}
	set := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := envLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		if listed[m[2]] {
			t.Errorf("%s listed twice", m[2])
		}
		listed[m[2]] = true
		if !read[m[2]] {
			t.Errorf("%s: serve reads no such variable", m[2])
		}
		if m[1] == "" {
			set[m[2]] = m[3]
		}
	}
	for name := range read {
		if !listed[name] {
			t.Errorf("%s is read by serve but not in the environment file", name)
		}
	}
	if _, err := loadServeConfig(envOf(set), false, ""); err != nil {
		t.Errorf("the environment file's values: %v", err)
	}
}

// TestDeploySystemdUnit: the unit is hardened as README.md says, and
// systemd-analyze verify accepts it.
func TestDeploySystemdUnit(t *testing.T) {
	unit, err := os.ReadFile(filepath.Join(deployDir, "systemd/imis-gateway.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes",
		"CapabilityBoundingSet=\n", "MemoryMax=", "Restart=on-failure", "EnvironmentFile=/etc/imis-gateway/env",
		"ExecStart=/usr/local/bin/imis-gateway serve\n"} {
		if !bytes.Contains(unit, []byte("\n"+want)) {
			t.Errorf("the unit has no line %q", strings.TrimSpace(want))
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (scripts/services.sh ops-tools installs it): the unit is not verified")
	}
	// verify wants the ExecStart binary to exist: this test's own stands in.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "imis-gateway.service")
	if err := os.WriteFile(path, bytes.ReplaceAll(unit, []byte("/usr/local/bin/imis-gateway"), []byte(self)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	// Without a running systemd (a container), verify still parses the
	// unit, and complains only of what it cannot look up.
	var problems []string
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		if line != "" && !strings.Contains(line, "multi-user.target") && !strings.Contains(line, "Failed to connect") &&
			!strings.Contains(line, "network-online.target") {
			problems = append(problems, line)
		}
	}
	if len(problems) > 0 || (err != nil && len(out) == 0) {
		t.Errorf("systemd-analyze verify: %v\n%s", err, strings.Join(problems, "\n"))
	}
}

// TestDeployContainerfile: multi-stage, a static binary, an empty base with
// nothing to run but the gateway, a user that is not root, and the ports of
// its settings.
func TestDeployContainerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(deployDir, "container/Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var stages [][]string // the instructions of each stage
	for line := range strings.SplitSeq(strings.ReplaceAll(string(b), "\\\n", " "), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "FROM ") {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("instruction before FROM: %q", line)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], line)
	}
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and the image", len(stages))
	}
	if build := strings.Join(stages[0], "\n"); !strings.Contains(build, "CGO_ENABLED=0 go build") {
		t.Error("the build stage does not build with CGO_ENABLED=0")
	}
	final := stages[len(stages)-1]
	if final[0] != "FROM scratch" {
		t.Errorf("the image is %q, want FROM scratch", final[0])
	}
	var user, env, expose string
	for _, ins := range final[1:] {
		word, rest, _ := strings.Cut(ins, " ")
		switch word {
		case "RUN":
			t.Errorf("the image stage runs %q: it has no shell", ins)
		case "USER":
			user = rest
		case "ENV":
			env = rest
		case "EXPOSE":
			expose = rest
		}
	}
	if uid, _, _ := strings.Cut(user, ":"); uid == "" || uid == "0" || uid == "root" {
		t.Errorf("USER %q, want a numeric user other than root", user)
	}
	var ports []string
	for kv := range strings.FieldsSeq(env) {
		if name, addr, _ := strings.Cut(kv, "="); name == "LISTEN_ADDR" || name == "ADMIN_ADDR" {
			ports = append(ports, portOf(t, addr))
		}
	}
	if got := strings.Fields(expose); !slices.Equal(got, ports) {
		t.Errorf("EXPOSE %v, want the ports of LISTEN_ADDR and ADMIN_ADDR %v", got, ports)
	}
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return port
}

// manifest is what the test reads of a Kubernetes object.
type manifest struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Replicas       int      `yaml:"replicas"`
		Selector       selector `yaml:"selector"`
		MaxUnavailable any      `yaml:"maxUnavailable"`
		Ports          []struct {
			Name       string `yaml:"name"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				Containers []container `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// selector is a Deployment's or PDB's label selector, or a Service's
// labels (a plain map).
type selector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
	plain       map[string]string
}

func (s *selector) UnmarshalYAML(n *yaml.Node) error {
	var m struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	}
	if err := n.Decode(&m); err == nil && m.MatchLabels != nil {
		s.MatchLabels = m.MatchLabels
		return nil
	}
	return n.Decode(&s.plain)
}

func (s selector) labels() map[string]string {
	if s.MatchLabels != nil {
		return s.MatchLabels
	}
	return s.plain
}

type container struct {
	Image string `yaml:"image"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	EnvFrom []struct {
		ConfigMapRef *struct{ Name string } `yaml:"configMapRef"`
		SecretRef    *struct{ Name string } `yaml:"secretRef"`
	} `yaml:"envFrom"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
	} `yaml:"securityContext"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

// readManifests reads every object of deploy/k8s, by kind and name.
func readManifests(t *testing.T) map[string]manifest {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(deployDir, "k8s/*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deploy/k8s: %v", err)
	}
	objects := map[string]manifest{}
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(f)
		for {
			var m manifest
			err := dec.Decode(&m)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if m.APIVersion == "" || m.Kind == "" {
				t.Errorf("%s: an object without apiVersion or kind", file)
			}
			if m.Kind != "Kustomization" && m.Metadata.Name == "" {
				t.Errorf("%s: a %s without a name", file, m.Kind)
			}
			objects[m.Kind+"/"+m.Metadata.Name] = m
		}
		f.Close()
	}
	return objects
}

// TestDeployKubernetes: the manifests hold the objects README.md describes,
// whose selectors, ports, probes, settings and references agree with each
// other and with the gateway.
func TestDeployKubernetes(t *testing.T) {
	objects := readManifests(t)
	for _, want := range []string{"Deployment/imis-gateway", "Service/imis-gateway", "Service/imis-gateway-admin",
		"PodDisruptionBudget/imis-gateway", "ConfigMap/imis-gateway", "Secret/imis-gateway"} {
		if _, ok := objects[want]; !ok {
			t.Errorf("no %s in deploy/k8s", want)
		}
	}
	d := objects["Deployment/imis-gateway"]
	if d.Spec.Replicas < 2 {
		t.Errorf("%d replicas: want several", d.Spec.Replicas)
	}
	pod := d.Spec.Template.Metadata.Labels
	for _, obj := range []string{"Deployment/imis-gateway", "Service/imis-gateway", "Service/imis-gateway-admin", "PodDisruptionBudget/imis-gateway"} {
		sel := objects[obj].Spec.Selector.labels()
		if len(sel) == 0 {
			t.Errorf("%s selects nothing", obj)
		}
		for k, v := range sel {
			if pod[k] != v {
				t.Errorf("%s selects %s=%s; the pods are %v", obj, k, v, pod)
			}
		}
	}
	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(d.Spec.Template.Spec.Containers))
	}
	c := d.Spec.Template.Spec.Containers[0]

	// Settings: known names, and ports that are the container's.
	read := settingsRead(t)
	config := objects["ConfigMap/imis-gateway"].Data
	secret := objects["Secret/imis-gateway"].StringData
	for _, data := range []map[string]string{config, secret} {
		for name := range data {
			if !read[name] {
				t.Errorf("%s: serve reads no such variable", name)
			}
		}
	}
	for _, name := range []string{"DATABASE_URL", "REDIS_URL"} {
		if _, inConfig := config[name]; inConfig || secret[name] == "" {
			t.Errorf("%s belongs in the Secret (it holds a password), not the ConfigMap", name)
		}
	}
	if config["SESSION_CACHE"] != "0" {
		t.Errorf("SESSION_CACHE=%q behind a Service, want 0 (README.md, \"Scaling out\")", config["SESSION_CACHE"])
	}
	merged := map[string]string{}
	for k, v := range config {
		merged[k] = v
	}
	for k, v := range secret {
		merged[k] = v
	}
	if _, err := loadServeConfig(envOf(merged), false, ""); err != nil {
		t.Errorf("the ConfigMap and Secret: %v", err)
	}
	ports := map[string]string{}
	for _, p := range c.Ports {
		ports[p.Name] = strconv.Itoa(p.ContainerPort)
	}
	if want := portOf(t, config["LISTEN_ADDR"]); ports["http"] != want {
		t.Errorf("container port http %q, LISTEN_ADDR's %q", ports["http"], want)
	}
	if want := portOf(t, config["ADMIN_ADDR"]); ports["admin"] != want {
		t.Errorf("container port admin %q, ADMIN_ADDR's %q", ports["admin"], want)
	}
	for _, svc := range []string{"Service/imis-gateway", "Service/imis-gateway-admin"} {
		for _, p := range objects[svc].Spec.Ports {
			if _, ok := ports[p.TargetPort]; !ok {
				t.Errorf("%s targets port %q, which the container does not name", svc, p.TargetPort)
			}
		}
	}
	var refs []string
	for _, e := range c.EnvFrom {
		switch {
		case e.ConfigMapRef != nil:
			refs = append(refs, "ConfigMap/"+e.ConfigMapRef.Name)
		case e.SecretRef != nil:
			refs = append(refs, "Secret/"+e.SecretRef.Name)
		}
	}
	slices.Sort(refs)
	if want := []string{"ConfigMap/imis-gateway", "Secret/imis-gateway"}; !slices.Equal(refs, want) {
		t.Errorf("envFrom %v, want %v", refs, want)
	}

	// Probes: the paths answer on the listener of their port.
	srv := gateway.NewServer(gateway.Deps{}, gateway.Config{MetricsOnAdmin: true})
	listeners := map[string]http.Handler{"http": srv, "admin": srv.Admin()}
	for name, p := range map[string]*probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil {
			t.Errorf("no %s probe", name)
			continue
		}
		h, ok := listeners[p.HTTPGet.Port]
		if !ok {
			t.Errorf("%s probe on port %q: want http or admin", name, p.HTTPGet.Port)
			continue
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, p.HTTPGet.Path, nil))
		if w.Code != http.StatusOK {
			t.Errorf("%s probe %s on %s: %d", name, p.HTTPGet.Path, p.HTTPGet.Port, w.Code)
		}
	}
	if c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("readiness on %s, want /readyz", c.ReadinessProbe.HTTPGet.Path)
	}
	if c.LivenessProbe != nil && c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("liveness on %s, want /healthz", c.LivenessProbe.HTTPGet.Path)
	}

	for _, r := range []string{"cpu", "memory"} {
		if c.Resources.Requests[r] == "" {
			t.Errorf("no %s request", r)
		}
	}
	if c.Resources.Limits["memory"] == "" {
		t.Error("no memory limit")
	}
	if sc := c.SecurityContext; sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || !sc.ReadOnlyRootFilesystem {
		t.Error("the container may escalate privileges or write its root file system")
	}
	if objects["PodDisruptionBudget/imis-gateway"].Spec.MaxUnavailable == nil {
		t.Error("the PodDisruptionBudget sets no maxUnavailable")
	}
}

// promtool finds promtool, installing it with scripts/services.sh ops-tools
// when it is missing.
func promtool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "../../scripts/services.sh", "ops-tools").Output()
	if err != nil {
		t.Skipf("promtool cannot be installed (scripts/services.sh ops-tools: %v): the alert rules are not checked", err)
	}
	return strings.SplitN(strings.TrimSpace(string(out)), "\n", 2)[0]
}

// TestDeployAlertRules: promtool checks the rules and runs their unit tests.
func TestDeployAlertRules(t *testing.T) {
	p := promtool(t)
	dir := filepath.Join(deployDir, "prometheus")
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		cmd := exec.Command(p, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
