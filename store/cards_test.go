package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

func testLetter(issuanceID, kind, dedupe string, now time.Time) store.Letter {
	return store.Letter{ID: uuid.NewString(), IssuanceID: issuanceID, Kind: kind, Status: store.LetterQueued, DedupeKey: dedupe,
		Recipient: `{"name":"x","lines":[],"postcode":"","city":"","country":"DK"}`, CreatedAt: now}
}

func testCodes(card string) []store.CardCode {
	var codes []store.CardCode
	for i := range 3 {
		codes = append(codes, store.CardCode{CardNumber: card, Key: fmt.Sprintf("%04d", i), CodeMAC: "0:x"})
	}
	return codes
}

// replacement saves card seq of credential "1" as the ReplaceCard activity would.
func replacement(st *store.Store, seq int, now time.Time) error {
	card := fmt.Sprintf("r-%d", seq)
	_, _, err := st.SaveReplacement(context.Background(), store.Replacement{
		Card:   store.CodeCard{CardNumber: card, CredentialID: "1", Seq: seq, CreatedAt: now},
		Codes:  testCodes(card),
		Letter: testLetter("iss-1", store.KindReplacementCard, fmt.Sprintf("iss-1/replacement_card/%d", seq), now),
		Event:  store.Event{IssuanceID: "iss-1", DedupeKey: fmt.Sprintf("replacement_queued:%d", seq), At: now, Type: "replacement_queued", Actor: "system"},
	})
	return err
}

// mintOrder saves the card of an order as the MintOrderedCard activity would.
func mintOrder(st *store.Store, o store.CardOrder, now time.Time) (store.CardOrder, error) {
	card := "o-" + o.ID
	return st.SaveOrderedCard(context.Background(), store.OrderedCard{OrderID: o.ID,
		Card:   store.CodeCard{CardNumber: card, CredentialID: o.CredentialID, CreatedAt: now},
		Codes:  testCodes(card),
		Letter: testLetter("iss-1", store.KindReplacementCard, "iss-1/lost/"+o.ID, now),
		Event:  store.Event{IssuanceID: "iss-1", DedupeKey: "replacement_queued:lost:" + o.ID, At: now, Type: "replacement_queued", Actor: "system"},
	})
}

func cardStates(t *testing.T, st *store.Store) map[string]string {
	t.Helper()
	cards, err := st.CardUsageOf(context.Background(), "1")
	require.NoError(t, err)
	out := map[string]string{}
	for _, c := range cards {
		out[c.CardNumber] = c.Status
	}
	return out
}

// TestLostCardWhileAReplacementTravels: a lost-card report and the
// automatic replacement never make two new cards, in whatever order they
// reach the database; a replacement already made is blocked with the rest.
func TestLostCardWhileAReplacementTravels(t *testing.T) {
	tests := []struct {
		name      string
		order     []string // "replace" (card 2), "report", "mint" (the lost order's card)
		wantCards map[string]string
	}{
		{name: "replacement made before the report: blocked too", order: []string{"replace", "report", "mint"},
			wantCards: map[string]string{"c-1": "blocked", "r-2": "blocked", "lost": "active"}},
		{name: "replacement made after the report: not needed", order: []string{"report", "replace", "mint"},
			wantCards: map[string]string{"c-1": "blocked", "lost": "active"}},
		{name: "replacement after the lost card was made: its seq is taken", order: []string{"report", "mint", "replace"},
			wantCards: map[string]string{"c-1": "blocked", "lost": "active"}},
	}
	for _, b := range testenv.Backends() {
		for _, tt := range tests {
			t.Run(b.Name+"/"+tt.name, func(t *testing.T) {
				st := b.Open(t)
				ctx := context.Background()
				now := time.Now().UTC().Truncate(time.Microsecond)
				credentialWithCard(t, st, "1", now)
				var order store.CardOrder
				for _, step := range tt.order {
					switch step {
					case "replace":
						err := replacement(st, 2, now)
						if err != nil {
							require.ErrorIs(t, err, store.ErrReplacementNotNeeded)
						}
					case "report":
						attempt, err := st.BeginAttempt(ctx, "1", now)
						require.NoError(t, err)
						report, err := st.ReportLostCard(ctx, "1", attempt, uuid.NewString(), now)
						require.NoError(t, err)
						require.True(t, report.New)
						order = report.Order
					case "mint":
						_, err := mintOrder(st, order, now)
						require.NoError(t, err)
					}
				}
				got := cardStates(t, st)
				want := map[string]string{}
				for k, v := range tt.wantCards {
					if k == "lost" {
						k = "o-" + order.ID
					}
					want[k] = v
				}
				assert.Equal(t, want, got)
			})
		}
	}
}

// TestLostCardReportsJoinUntilTheNewCardIsDispatched: reports made while
// the new card is on its way order no further card, however many arrive at
// once; after its dispatch a report blocks it and orders the next.
func TestLostCardReportsJoinUntilTheNewCardIsDispatched(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Microsecond)
			credentialWithCard(t, st, "1", now)

			var mu sync.Mutex
			orders := map[string]int{}
			var wg sync.WaitGroup
			for range 6 {
				wg.Go(func() {
					attempt, err := st.BeginAttempt(ctx, "1", now)
					if err != nil {
						assert.ErrorIs(t, err, store.ErrAttemptsInFlight)
						return
					}
					report, err := st.ReportLostCard(ctx, "1", attempt, uuid.NewString(), now)
					if assert.NoError(t, err) {
						mu.Lock()
						orders[report.Order.ID]++
						mu.Unlock()
						assert.Equal(t, []string{"c-1"}, report.Blocked)
					}
				})
			}
			wg.Wait()
			require.Len(t, orders, 1, "one order however many reports")
			var order store.CardOrder
			for id := range orders {
				order, _ = st.CardOrderByID(ctx, id)
			}
			_, waiting, err := st.AwaitingNewCard(ctx, "1")
			require.NoError(t, err)
			require.True(t, waiting, "no card until the new one is dispatched")

			minted, err := mintOrder(st, order, now)
			require.NoError(t, err)
			again, err := mintOrder(st, order, now)
			require.NoError(t, err)
			require.Equal(t, *minted.CardNumber, *again.CardNumber, "a retried mint returns the card made")
			_, waiting, err = st.AwaitingNewCard(ctx, "1")
			require.NoError(t, err)
			require.True(t, waiting, "minted but not dispatched")

			_, err = st.MarkDispatched(ctx, *minted.LetterID, now, nil, store.AuditEntry{Actor: "post:post", Action: store.AuditLetterDispatched, Target: store.LetterTarget(*minted.LetterID)})
			require.NoError(t, err)
			_, waiting, err = st.AwaitingNewCard(ctx, "1")
			require.NoError(t, err)
			require.False(t, waiting)

			attempt, err := st.BeginAttempt(ctx, "1", now)
			require.NoError(t, err)
			next, err := st.ReportLostCard(ctx, "1", attempt, uuid.NewString(), now)
			require.NoError(t, err)
			assert.True(t, next.New)
			assert.Equal(t, 2, next.Order.N)
			assert.Equal(t, []string{"c-1", *minted.CardNumber}, next.Blocked, "the delivered new card, lost again, is blocked")
		})
	}
}

// TestExtraCardsNeverExceedTheLimit: concurrent orders never pass three
// unspent extra cards; a lost-card report voids those not yet minted.
func TestExtraCardsNeverExceedTheLimit(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Microsecond)
			credentialWithCard(t, st, "1", now)

			var mu sync.Mutex
			var ok []store.CardOrder
			var wg sync.WaitGroup
			for range 10 {
				wg.Go(func() {
					o, err := st.OrderExtraCard(ctx, "1", uuid.NewString(), now)
					if err != nil {
						assert.ErrorIs(t, err, store.ErrTooManyExtraCards)
						return
					}
					mu.Lock()
					ok = append(ok, o)
					mu.Unlock()
				})
			}
			wg.Wait()
			require.Len(t, ok, store.MaxExtraCards)
			_, err := st.OrderExtraCard(ctx, "1", uuid.NewString(), now)
			require.ErrorIs(t, err, store.ErrTooManyExtraCards, "minted or not, they count")

			attempt, err := st.BeginAttempt(ctx, "1", now)
			require.NoError(t, err)
			_, err = st.ReportLostCard(ctx, "1", attempt, uuid.NewString(), now)
			require.NoError(t, err)
			_, err = mintOrder(st, ok[0], now)
			require.ErrorIs(t, err, store.ErrOrderVoid, "an extra card not yet made when the cards were lost is not made")
			_, err = st.OrderExtraCard(ctx, "1", uuid.NewString(), now)
			require.NoError(t, err, "voided orders no longer count")
		})
	}
}
