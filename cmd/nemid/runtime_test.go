package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"

	"github.com/opennemid/nemid/internal/telemetry"
	"github.com/opennemid/nemid/internal/testenv"
)

// TestAFatalWorkerErrorEndsTheWorker: once the worker is polling, the
// server answers its polls "namespace not found", which the SDK treats as
// fatal. runWorker must return that error (so the process exits with it),
// not keep waiting for ctx while no worker runs. The SDK retries such polls
// for two minutes (its fixed grace period) before it gives up, so this test
// takes that long; it runs beside the others.
func TestAFatalWorkerErrorEndsTheWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the SDK's two-minute grace period for fatal poll errors")
	}
	t.Parallel()
	dev := testenv.Temporal(t)
	failPolls := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoke grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if strings.HasSuffix(method, "/PollWorkflowTaskQueue") || strings.HasSuffix(method, "/PollActivityTaskQueue") {
			return serviceerror.NewNamespaceNotFound("default")
		}
		return invoke(ctx, method, req, reply, cc, opts...)
	}
	tc, err := client.Dial(client.Options{HostPort: dev.FrontendHostPort(), Namespace: "default",
		ConnectionOptions: client.ConnectionOptions{DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(failPolls)}}})
	require.NoError(t, err)
	t.Cleanup(tc.Close)
	rt := &runtime{log: telemetry.NewLogger(&strings.Builder{}), store: testenv.SQLite(t), temporal: tc}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	err = rt.runWorker(ctx)
	require.Error(t, err, "a fatal worker error must end runWorker")
	require.ErrorContains(t, err, "namespace")
	require.NoError(t, ctx.Err(), "runWorker returned on the fatal error, not at the deadline")
}
