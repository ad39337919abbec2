package redact

import "testing"

func TestSecretNames(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stonith bool
		want    bool
	}{
		{"passwd", false, true},
		{"password", false, true},
		{"db_password", false, true},
		{"PASSWD", false, true},
		{"client_secret", false, true},
		{"auth-token", false, true},
		{"api_key", false, true},
		{"authkey", false, true},
		{"ssh-key", false, true},
		{"key", false, true},
		{"key_file", false, true},
		{"snmp_community", false, true},
		{"login", false, true},
		{"keyboard", false, false},
		{"monkeys", false, false},
		{"transition-key", false, false},
		{"operation_key", false, false},
		{"user", false, false},
		{"username", false, false},
		{"user", true, true},
		{"username", true, true},
		{"update-user", true, false},
		{"cib_user", true, false},
		{"lrmd_rsc_userdata_str", true, false},
		{"ipaddr", true, false},
		{"name", false, false},
		{"value", false, false},
	} {
		m, err := Rules{}.compile()
		if err != nil {
			t.Fatal(err)
		}
		if got := m.secretName([]byte(tc.name), tc.stonith); got != tc.want {
			t.Errorf("secretName(%q, stonith %v) = %v, want %v", tc.name, tc.stonith, got, tc.want)
		}
	}
}

func TestUserNames(t *testing.T) {
	m, err := Rules{Names: []string{"^ipaddr$", "cert"}, NoDefaults: true}.compile()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"ipaddr": true, "IPADDR": true, "ipaddr6": false, "ssl_cert_file": true, "passwd": false} {
		if got := m.secretName([]byte(name), false); got != want {
			t.Errorf("secretName(%q) = %v, want %v", name, got, want)
		}
	}
	if _, err := (Rules{Names: []string{"("}}).compile(); err == nil {
		t.Error("compile accepted the pattern \"(\"")
	}
	if _, err := (Rules{Values: []string{""}}).compile(); err == nil {
		t.Error("compile accepted an empty literal value")
	}
}

func TestDescribe(t *testing.T) {
	r := Rules{Names: []string{"^ip"}, Values: []string{"hunter2", "x"}}
	if got, want := r.Describe(), "default names, name /^ip/, 2 literal values"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
}
