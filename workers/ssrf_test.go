package workers_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"goodplan/workers"
)

func TestCheckWebhookAddress(t *testing.T) {
	t.Parallel()
	cases := []struct {
		addr    string
		allowed bool
	}{
		{"127.0.0.1", false},
		{"127.255.0.9", false},
		{"::1", false},
		{"10.0.0.1", false},
		{"172.16.5.4", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"::", false},
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"ff02::1", false},
		{"ff05::2", false},
		{"100.64.0.1", false},
		{"100.127.255.254", false},
		{"255.255.255.255", false},
		{"198.18.0.1", false},
		{"::ffff:127.0.0.1", false}, // IPv4-mapped
		{"::ffff:10.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"::127.0.0.1", false},        // IPv4-compatible
		{"64:ff9b::a9fe:a9fe", false}, // NAT64 of 169.254.169.254
		{"2002:0a00:0001::1", false},  // 6to4 of 10.0.0.1
		{"0.255.255.255", false},      // this-network
		{"100.64.0.0", false},         // carrier-grade NAT
		{"192.0.0.8", false},          // IETF protocol assignment
		{"192.0.0.255", false},
		{"198.19.255.255", false}, // benchmarking
		{"240.0.0.1", false},      // reserved
		{"254.1.2.3", false},
		{"::ffff:0:7f00:1", false},                      // IPv4-translated 127.0.0.1
		{"::ffff:0:a00:1", false},                       // IPv4-translated 10.0.0.1
		{"::ffff:0:a9fe:a9fe", false},                   // IPv4-translated 169.254.169.254
		{"::ffff:0:6440:1", false},                      // IPv4-translated 100.64.0.1
		{"64:ff9b::7f00:1", false},                      // NAT64 of 127.0.0.1
		{"64:ff9b::a00:1", false},                       // NAT64 of 10.0.0.1
		{"64:ff9b::c0a8:101", false},                    // NAT64 of 192.168.1.1
		{"64:ff9b::", false},                            // NAT64 of 0.0.0.0
		{"64:ff9b:1::808:808", false},                   // local-use NAT64, whatever it embeds
		{"64:ff9b:1:ffff::1", false},                    // local-use NAT64
		{"2001::1", false},                              // Teredo
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", false}, // Teredo (RFC 4380 example)
		{"2001:0:ffff:ffff::1", false},                  // Teredo, end of 2001::/32
		{"2002:7f00:1::1", false},                       // 6to4 of 127.0.0.1
		{"2002:a9fe:a9fe::1", false},                    // 6to4 of 169.254.169.254
		{"2002:c0a8:101:1::1", false},                   // 6to4 of 192.168.1.1
		{"2002:6440:1::1", false},                       // 6to4 of 100.64.0.1
		{"2002::1", false},                              // 6to4 of 0.0.0.0
		{"fec0::1", false},                              // site-local
		{"feff:ffff::1", false},                         // site-local, end of fec0::/10
		{"93.184.215.14", true},                         // public
		{"1.0.0.1", true},                               // just outside 0/8
		{"100.63.255.255", true},                        // just outside 100.64/10
		{"192.0.1.1", true},                             // just outside 192.0.0/24
		{"198.17.255.255", true},                        // just outside 198.18/15
		{"198.20.0.1", true},                            // just outside 198.18/15
		{"223.255.255.1", true},                         // just outside 240/4 (and 224/4)
		{"::ffff:0:808:808", true},                      // IPv4-translated 8.8.8.8
		{"2001:200::1", true},                           // just outside Teredo's 2001::/32
		{"2003::1", true},                               // just outside 6to4's 2002::/16
		{"8.8.8.8", true},                               // public
		{"172.32.0.1", true},                            // just outside 172.16/12
		{"100.128.0.1", true},                           // just outside 100.64/10
		{"169.255.0.1", true},                           // just outside link-local
		{"2606:4700:4700::1111", true},                  // public IPv6
		{"::ffff:93.184.215.14", true},                  // mapped public
		{"64:ff9b::808:808", true},                      // NAT64 of 8.8.8.8
		{"2002:0808:0808::1", true},                     // 6to4 of 8.8.8.8
		{"2001:4860:4860::8888", true},                  // public IPv6
		{"2a00:1450:4001:81c::200e", true},
	}
	for _, c := range cases {
		ip := netip.MustParseAddr(c.addr)
		err := workers.CheckWebhookAddress(ip)
		if c.allowed && err != nil {
			t.Errorf("%s: refused: %v", c.addr, err)
		}
		if !c.allowed {
			if !errors.Is(err, workers.ErrAddressNotAllowed) || !strings.Contains(err.Error(), "not allowed") {
				t.Errorf("%s: allowed (%v)", c.addr, err)
			}
		}
		// The dial Control function sees "ip:port".
		ctl := workers.WebhookDialControl(false)
		if err := ctl("tcp", netip.AddrPortFrom(ip, 443).String(), nil); (err == nil) != c.allowed {
			t.Errorf("%s: Control returned %v", c.addr, err)
		}
		if err := workers.WebhookDialControl(true)("tcp", netip.AddrPortFrom(ip, 443).String(), nil); err != nil {
			t.Errorf("%s: refused with private networks allowed: %v", c.addr, err)
		}
	}
	if err := workers.WebhookDialControl(false)("tcp", "not-an-address", nil); err == nil {
		t.Error("unparsable address allowed")
	}
}

// TestWebhookClientRefusesPrivateAtConnect: the client itself refuses, at
// connect time, whatever the URL names: a literal address or a host name
// that resolves to one.
func TestWebhookClientRefusesPrivateAtConnect(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	client := workers.NewWebhookClient(false)
	client.Timeout = 2 * time.Second
	for _, u := range []string{
		srv.URL,
		"http://localhost:" + port,
		"http://[::1]:" + port,
		"http://10.0.0.1:" + port,
		"http://169.254.169.254/latest/meta-data/",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "POST", u, strings.NewReader("{}"))
		resp, err := client.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			t.Errorf("%s: got %d, want a refusal", u, resp.StatusCode)
			continue
		}
		if !errors.Is(err, workers.ErrAddressNotAllowed) || !strings.Contains(err.Error(), "not allowed") {
			t.Errorf("%s: %v, want an address-not-allowed error", u, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the loopback server received %d requests", n)
	}
	// Allowed when private networks are.
	resp, err := workers.NewWebhookClient(true).Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hits.Load() != 1 {
		t.Fatal("allowPrivate client did not reach the server")
	}
}
