package testenv

import (
	"context"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/opennemid/nemid/internal/codec"
)

// HistoryPlaintext returns every payload of a workflow's history decrypted
// with the app's codec, so a test can assert what history does not hold.
func (a *App) HistoryPlaintext(t *testing.T, workflowID string) string {
	t.Helper()
	aead, err := codec.Parse(a.Config.CodecKeys)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	iter := a.Temporal.GetWorkflowHistory(context.Background(), workflowID, "", false, 0)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		eachPayload(ev.ProtoReflect(), func(p *commonpb.Payload) {
			plain, err := aead.Decode([]*commonpb.Payload{p})
			if err != nil {
				t.Fatalf("decrypt a history payload: %v", err)
			}
			b.Write(plain[0].GetData())
			b.WriteByte('\n')
		})
	}
	return b.String()
}

// eachPayload visits every Payload message nested anywhere in m.
func eachPayload(m protoreflect.Message, visit func(*commonpb.Payload)) {
	if p, ok := m.Interface().(*commonpb.Payload); ok {
		visit(p)
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len(); i++ {
				eachPayload(v.List().Get(i).Message(), visit)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				eachPayload(mv.Message(), visit)
				return true
			})
		case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
			eachPayload(v.Message(), visit)
		}
		return true
	})
}
