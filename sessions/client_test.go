package sessions

import (
	"cmp"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// options is what a URL must turn into; zero fields are not checked except where noted.
type options struct {
	kind              string // standalone, cluster, sentinel
	addrs             []string
	db                int
	user, password    string
	tls               bool
	master            string
	sentinelPassword  string
	dial, read, write time.Duration // default 1s each
}

func TestNewClient(t *testing.T) {
	tests := []struct {
		url  string
		want options
		err  string
	}{
		{url: "redis://localhost:6379/0", want: options{kind: "standalone", addrs: []string{"localhost:6379"}}},
		{url: "redis://127.0.0.1:56379/3", want: options{kind: "standalone", addrs: []string{"127.0.0.1:56379"}, db: 3}},
		{url: "rediss://default:s3cret@redis.example.org:6380/1", want: options{kind: "standalone", addrs: []string{"redis.example.org:6380"}, db: 1, user: "default", password: "s3cret", tls: true}},
		{url: "redis://:p%40ss@h", want: options{kind: "standalone", addrs: []string{"h:6379"}, password: "p@ss"}},
		{url: "redis://h/0?dial_timeout=2s&read_timeout=300ms", want: options{kind: "standalone", addrs: []string{"h:6379"}, dial: 2 * time.Second, read: 300 * time.Millisecond}},
		{url: "unix:///run/redis.sock?db=2", want: options{kind: "standalone", addrs: []string{"/run/redis.sock"}, db: 2}},
		{url: "redis+cluster://10.0.0.1:7000,10.0.0.2:7001,10.0.0.3", want: options{kind: "cluster", addrs: []string{"10.0.0.1:7000", "10.0.0.2:7001", "10.0.0.3:6379"}}},
		{url: "rediss+cluster://u:p%2Fw@[::1]:7000,[fe80::1]/0?write_timeout=2&addr=10.0.0.9:7000", want: options{kind: "cluster", addrs: []string{"[::1]:7000", "[fe80::1]:6379", "10.0.0.9:7000"}, user: "u", password: "p/w", tls: true, write: 2 * time.Second}},
		{url: "redis+sentinel://:s3cret@10.0.0.1,10.0.0.2:26380/mymaster/2?sentinel_password=sp", want: options{kind: "sentinel", addrs: []string{"10.0.0.1:26379", "10.0.0.2:26380"}, db: 2, password: "s3cret", master: "mymaster", sentinelPassword: "sp"}},
		{url: "rediss+sentinel://s1/m", want: options{kind: "sentinel", addrs: []string{"s1:26379"}, master: "m", tls: true}},

		{url: "", err: "want redis://"},
		{url: "localhost:6379", err: "want redis://"},
		{url: "http://h", err: `unknown scheme "http"`},
		{url: "redis://h/x", err: "invalid database number"},
		{url: "redis://h?bogus=1", err: "unexpected option: bogus"},
		{url: "redis://h?dial_timeout=abc", err: "invalid dial_timeout"},
		{url: "redis://:s3cret@h:port/0", err: "invalid port"},
		{url: "redis://u:s3cret@h/0?bogus=1", err: "redis URL redis://u:xxxxx@h/0?bogus=1"},
		{url: "redis+cluster://", err: "no host"},
		{url: "redis+cluster://h1,/", err: "invalid host"},
		{url: "redis+cluster://h1,h2/3", err: "database 0 only"},
		{url: "redis+cluster://::1,h2", err: "IPv6 addresses go in brackets"},
		{url: "redis+cluster://h1?bogus=1", err: "unexpected option: bogus"},
		{url: "redis+cluster://:s3cret@h1#frag", err: "fragment"},
		{url: "redis+sentinel://h1,h2", err: "missing master name"},
		{url: "redis+sentinel://h1,h2/m/x", err: "invalid database number"},
		{url: "redis+sentinel://:s3cret@h1/m?sentinel_password=top&bogus=1", err: "unexpected option: bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			rdb, err := NewClient(tt.url)
			if tt.err != "" {
				if err == nil {
					rdb.Close()
					t.Fatalf("no error, want %q", tt.err)
				}
				if !strings.Contains(err.Error(), tt.err) {
					t.Errorf("error %q, want it to contain %q", err, tt.err)
				}
				for _, secret := range []string{"s3cret", "top"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q shows the password", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rdb.Close()

			want := tt.want
			want.dial, want.read, want.write = cmp.Or(want.dial, time.Second), cmp.Or(want.read, time.Second), cmp.Or(want.write, time.Second)
			var got options
			var contextTimeout bool
			switch want.kind {
			case "standalone":
				o, err := parseStandalone(tt.url)
				if err != nil {
					t.Fatal(err)
				}
				got = options{kind: want.kind, addrs: []string{o.Addr}, db: o.DB, user: o.Username, password: o.Password, tls: o.TLSConfig != nil,
					dial: o.DialTimeout, read: o.ReadTimeout, write: o.WriteTimeout}
				contextTimeout = o.ContextTimeoutEnabled
				if _, ok := rdb.UniversalClient.(*redis.Client); !ok {
					t.Errorf("client %T", rdb)
				}
			case "cluster":
				o, err := parseCluster(tt.url)
				if err != nil {
					t.Fatal(err)
				}
				got = options{kind: want.kind, addrs: o.Addrs, user: o.Username, password: o.Password, tls: o.TLSConfig != nil,
					dial: o.DialTimeout, read: o.ReadTimeout, write: o.WriteTimeout}
				contextTimeout = o.ContextTimeoutEnabled
				if _, ok := rdb.UniversalClient.(*redis.ClusterClient); !ok {
					t.Errorf("client %T", rdb)
				}
			case "sentinel":
				o, err := parseSentinel(tt.url)
				if err != nil {
					t.Fatal(err)
				}
				got = options{kind: want.kind, addrs: o.SentinelAddrs, db: o.DB, user: o.Username, password: o.Password, tls: o.TLSConfig != nil,
					master: o.MasterName, sentinelPassword: o.SentinelPassword, dial: o.DialTimeout, read: o.ReadTimeout, write: o.WriteTimeout}
				contextTimeout = o.ContextTimeoutEnabled
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("options\n got %+v\nwant %+v", got, want)
			}
			if !contextTimeout {
				t.Error("ContextTimeoutEnabled is false")
			}
		})
	}
}

// The gateway's own options are taken out of the URL before go-redis sees it, with the topology's
// defaults: wait for one replica under Cluster and Sentinel, none on one server.
func TestNewClientOwnOptions(t *testing.T) {
	tests := []struct {
		url        string
		durability Durability
		reload     time.Duration // Cluster only
		err        string
	}{
		{url: "redis://h/0", durability: Durability{0, DefaultWaitTimeout}},
		{url: "redis://h/0?wait_replicas=2&wait_timeout=1s&read_timeout=2s", durability: Durability{2, time.Second}},
		{url: "redis+sentinel://s1,s2/m/0", durability: Durability{1, DefaultWaitTimeout}},
		{url: "redis+sentinel://s1/m?wait_replicas=0&sentinel_password=x", durability: Durability{0, DefaultWaitTimeout}},
		{url: "redis+cluster://h1,h2", durability: Durability{1, DefaultWaitTimeout}, reload: DefaultClusterStateReloadInterval},
		{url: "redis+cluster://h1?cluster_state_reload_interval=2s&wait_timeout=0.5", durability: Durability{1, 500 * time.Millisecond}, reload: 2 * time.Second},

		{url: "redis://h/0?wait_replicas=-1", err: "invalid wait_replicas"},
		{url: "redis://h/0?wait_replicas=one", err: "invalid wait_replicas"},
		{url: "redis://h/0?wait_timeout=0", err: "invalid wait_timeout"},
		{url: "redis+cluster://h1?cluster_state_reload_interval=soon", err: "invalid cluster_state_reload_interval"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			c, err := NewClient(tt.url)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.Durability != tt.durability {
				t.Errorf("durability %+v, want %+v", c.Durability, tt.durability)
			}
			if cluster, ok := c.UniversalClient.(*redis.ClusterClient); ok && cluster.Options().ClusterStateReloadInterval != tt.reload {
				t.Errorf("cluster state reload interval %v, want %v", cluster.Options().ClusterStateReloadInterval, tt.reload)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"redis://h:6379/0":  "redis://h:6379/0",
		"redis://u:pw@h/0":  "redis://u:xxxxx@h/0",
		"redis://pw@h/0":    "redis://xxxxx@h/0",
		"redis://u:p/w@h/0": "redis://xxxxx@h/0",
		"redis+sentinel://:pw@a,b/m?sentinel_password=x&password=y&db=1": "redis+sentinel://:xxxxx@a,b/m?sentinel_password=xxxxx&password=xxxxx&db=1",
		"h:pw@x": "(unparseable, hidden)",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
