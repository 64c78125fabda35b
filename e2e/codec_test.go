package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/opennemid/nemid/internal/codec"
	"github.com/opennemid/nemid/internal/testenv"
)

// TestCodecEndpointDecodesForAdminsOnly: the Temporal Web UI's remote codec
// (DESIGN.md §8) turns a payload the workers encrypted back into plaintext
// for an admin token, and for nobody else; the UI's origin may call it.
func TestCodecEndpointDecodesForAdminsOnly(t *testing.T) {
	app := testenv.NewApp(t, testenv.SQLite(t), testenv.Options{})
	keys, err := codec.Parse(app.Config.CodecKeys)
	require.NoError(t, err)
	plain, err := converter.GetDefaultDataConverter().ToPayload(map[string]string{"cpr": "150285-4321"})
	require.NoError(t, err)
	sealed, err := keys.Encode([]*commonpb.Payload{plain})
	require.NoError(t, err)
	require.NotContains(t, string(sealed[0].Data), "150285-4321", "the payload is encrypted before it is sent")
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: sealed})
	require.NoError(t, err)

	t.Run("the SDK's remote codec, as the UI calls it, reads the plaintext with an admin token", func(t *testing.T) {
		remote := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{Endpoint: app.URL + "/codec",
			ModifyRequest: func(r *http.Request) error {
				r.Header.Set("Authorization", "Bearer "+app.Tokens["admin:all"])
				return nil
			}})
		got, err := remote.Decode(sealed)
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.JSONEq(t, `{"cpr":"150285-4321"}`, string(got[0].Data))
		assert.Equal(t, "json/plain", string(got[0].Metadata[converter.MetadataEncoding]))
	})

	tests := []struct {
		name   string
		token  string
		body   string
		status int
		code   string
	}{
		{"admin", app.Tokens["admin:all"], string(body), http.StatusOK, ""},
		{"no token", "", string(body), http.StatusUnauthorized, "unauthorized"},
		{"an unknown token", "not-a-token", string(body), http.StatusUnauthorized, "unauthorized"},
		{"caseworker", app.Tokens["caseworker:KBH"], string(body), http.StatusForbidden, "forbidden"},
		{"embassy", app.Tokens["embassy:LONDON"], string(body), http.StatusForbidden, "forbidden"},
		{"bank", app.Tokens["bank:1234"], string(body), http.StatusForbidden, "forbidden"},
		{"post", app.Tokens["post:post"], string(body), http.StatusForbidden, "forbidden"},
		{"not the protocol", app.Tokens["admin:all"], `{"payloads":"x"}`, http.StatusBadRequest, "invalid_request"},
		{"tampered", app.Tokens["admin:all"], strings.Replace(string(body), `"data":"`, `"data":"AAAA`, 1), http.StatusBadRequest, "undecodable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := app.Do(t, testenv.Request{Method: "POST", Path: "/codec/decode", Token: tc.token, Body: tc.body})
			require.Equal(t, tc.status, res.Status, "%s", res.Body)
			if tc.status != http.StatusOK {
				assert.Equal(t, tc.code, res.JSON["error"].(map[string]any)["code"])
				assert.NotContains(t, string(res.Body), "150285-4321")
				return
			}
			assert.Contains(t, string(res.Body), "payloads")
			assert.Equal(t, "no-store", res.Header.Get("Cache-Control"), "plaintext is not cached")
		})
	}

	t.Run("CORS: the UI's origin may call it, others may not", func(t *testing.T) {
		for _, tc := range []struct {
			origin string
			allow  bool
		}{{"http://127.0.0.1:8233", true}, {"http://localhost:8233", true}, {"http://evil.example", false}} {
			pre := app.Do(t, testenv.Request{Method: "OPTIONS", Path: "/codec/decode", Header: map[string]string{
				"Origin": tc.origin, "Access-Control-Request-Method": "POST",
				"Access-Control-Request-Headers": "authorization,content-type,x-namespace"}})
			require.Equal(t, http.StatusNoContent, pre.Status, "a preflight carries no token and is answered")
			post := app.Do(t, testenv.Request{Method: "POST", Path: "/codec/decode", Token: app.Tokens["admin:all"],
				Body: string(body), Header: map[string]string{"Origin": tc.origin}})
			require.Equal(t, http.StatusOK, post.Status)
			if !tc.allow {
				assert.Empty(t, pre.Header.Get("Access-Control-Allow-Origin"), tc.origin)
				assert.Empty(t, post.Header.Get("Access-Control-Allow-Origin"), tc.origin)
				continue
			}
			assert.Equal(t, tc.origin, pre.Header.Get("Access-Control-Allow-Origin"))
			assert.Contains(t, pre.Header.Get("Access-Control-Allow-Methods"), "POST")
			for _, h := range []string{"Authorization", "Content-Type", "X-Namespace"} {
				assert.Contains(t, pre.Header.Get("Access-Control-Allow-Headers"), h)
			}
			assert.Equal(t, "true", pre.Header.Get("Access-Control-Allow-Credentials"))
			assert.Equal(t, tc.origin, post.Header.Get("Access-Control-Allow-Origin"))
		}
	})
}
