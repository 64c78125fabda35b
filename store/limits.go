package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Rate limits and order windows are decided in the database, each in ONE
// statement (an upsert that reads and writes its row atomically), so that
// every API process draws from the same buckets: N processes do not allow
// N times the attempts (DESIGN.md §9). Times are Unix microseconds from the
// caller's clock. Processes' clocks differ a little: a clock behind the
// row's time counts no elapsed time (clamped at zero, never negative) and
// does not move the row's time back, so no interval is counted twice.

// takeTokenSQL is a token bucket: the row holds the tokens left when it was
// last refilled. A request refills by the elapsed time (never negative, at
// most to the burst), then takes one token when there is one. A new bucket
// starts full. Every SET expression reads the row as it was before the
// statement, so allowed and tokens agree; RETURNING answers the tokens after
// the statement and whether one was taken. Postgres locks the row for the
// statement, SQLite the database: concurrent takes queue and each sees the
// one before it.
const takeTokenSQL = `
INSERT INTO rate_buckets AS b (bucket, tokens, refilled_us, allowed)
VALUES (@bucket, CAST(@burst AS {{float}}) - 1, CAST(@now AS BIGINT), TRUE)
ON CONFLICT (bucket) DO UPDATE SET
	tokens = CASE WHEN {{refill}} >= 1 THEN {{refill}} - 1 ELSE {{refill}} END,
	refilled_us = {{greatest}}(b.refilled_us, CAST(@now AS BIGINT)),
	allowed = ({{refill}} >= 1)
RETURNING tokens, allowed`

// refillSQL is the bucket's tokens at @now: what it held, plus the refill
// over the elapsed time clamped at zero, capped at the burst.
const refillSQL = `{{least}}(CAST(@burst AS {{float}}),
	b.tokens + {{greatest}}(0, CAST(@now AS BIGINT) - b.refilled_us) * CAST(@per_us AS {{float}}))`

// TakeToken takes one token from the named bucket, which holds at most
// burst tokens and refills at perSecond. When the bucket is empty it
// answers false and how long until a token is there.
func (s *Store) TakeToken(ctx context.Context, bucket string, perSecond float64, burst int, now time.Time) (bool, time.Duration, error) {
	if perSecond <= 0 || burst < 1 {
		return false, 0, fmt.Errorf("rate limit: %v per second with a burst of %d", perSecond, burst)
	}
	q := dialectTypes[s.dialect].Replace(strings.ReplaceAll(takeTokenSQL, "{{refill}}", refillSQL))
	var row struct {
		Tokens  float64
		Allowed bool
	}
	err := s.db.WithContext(ctx).Raw(q, map[string]any{
		"bucket": bucket, "burst": float64(burst), "now": now.UnixMicro(), "per_us": perSecond / 1e6,
	}).Scan(&row).Error
	if err != nil {
		return false, 0, fmt.Errorf("take a token: %w", err)
	}
	if row.Allowed {
		return true, 0, nil
	}
	return false, time.Duration((1 - row.Tokens) / perSecond * float64(time.Second)), nil
}

// DeleteIdleRateBuckets forgets buckets not refilled since before. A bucket
// idle for longer than burst/rate is full again, so forgetting it changes
// nothing.
func (s *Store) DeleteIdleRateBuckets(ctx context.Context, before time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Exec("DELETE FROM rate_buckets WHERE refilled_us < ?", before.UnixMicro())
	return res.RowsAffected, res.Error
}

// Abroad orders per CPR (DESIGN.md §9): at most AbroadOrdersPerCPR in any
// AbroadOrderWindow. The limit is the number of at*_us columns of
// abroad_order_windows.
const (
	AbroadOrdersPerCPR = 5
	AbroadOrderWindow  = 24 * time.Hour
)

// takeOrderSQL keeps, per CPR lookup hash, the times of the last five
// orders in ascending order (0 for none). A new order is allowed when the
// oldest of them left the window; it then drops the oldest and appends its
// own time (never before the newest, whatever the caller's clock says, so
// the order stays ascending). Refused, the row is unchanged and at1_us is
// the order whose leaving the window lets the next one in.
const takeOrderSQL = `
INSERT INTO abroad_order_windows AS w (cpr_hash, at1_us, at2_us, at3_us, at4_us, at5_us, allowed)
VALUES (@cpr_hash, 0, 0, 0, 0, CAST(@now AS BIGINT), TRUE)
ON CONFLICT (cpr_hash) DO UPDATE SET
	at1_us = CASE WHEN w.at1_us <= CAST(@cutoff AS BIGINT) THEN w.at2_us ELSE w.at1_us END,
	at2_us = CASE WHEN w.at1_us <= CAST(@cutoff AS BIGINT) THEN w.at3_us ELSE w.at2_us END,
	at3_us = CASE WHEN w.at1_us <= CAST(@cutoff AS BIGINT) THEN w.at4_us ELSE w.at3_us END,
	at4_us = CASE WHEN w.at1_us <= CAST(@cutoff AS BIGINT) THEN w.at5_us ELSE w.at4_us END,
	at5_us = CASE WHEN w.at1_us <= CAST(@cutoff AS BIGINT)
		THEN {{greatest}}(w.at5_us, CAST(@now AS BIGINT)) ELSE w.at5_us END,
	allowed = (w.at1_us <= CAST(@cutoff AS BIGINT))
RETURNING at1_us, allowed`

// TakeAbroadOrder counts an abroad order for the CPR lookup hash, or, when
// AbroadOrdersPerCPR were counted in the window before now, refuses it
// (uncounted) and tells how long until the oldest leaves the window.
func (s *Store) TakeAbroadOrder(ctx context.Context, cprHash string, now time.Time) (bool, time.Duration, error) {
	q := dialectTypes[s.dialect].Replace(takeOrderSQL)
	var row struct {
		At1US   int64 `gorm:"column:at1_us"`
		Allowed bool
	}
	err := s.db.WithContext(ctx).Raw(q, map[string]any{
		"cpr_hash": cprHash, "now": now.UnixMicro(), "cutoff": now.Add(-AbroadOrderWindow).UnixMicro(),
	}).Scan(&row).Error
	if err != nil {
		return false, 0, fmt.Errorf("count an abroad order: %w", err)
	}
	if row.Allowed {
		return true, 0, nil
	}
	return false, time.UnixMicro(row.At1US).Add(AbroadOrderWindow).Sub(now), nil
}

// DeleteStaleAbroadOrderWindows forgets CPRs whose newest order left the
// window before now: their row allows the next order like no row does.
func (s *Store) DeleteStaleAbroadOrderWindows(ctx context.Context, now time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Exec("DELETE FROM abroad_order_windows WHERE at5_us < ?",
		now.Add(-AbroadOrderWindow).UnixMicro())
	return res.RowsAffected, res.Error
}
