package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

// TestStaleBookingsGiveTheirSlotBack: a booking whose workflow never
// started (the API died between the booking and the start) is expired by
// the sweep once its confirmation deadline is StaleBookingGrace past, and
// its slot is free again; a booking still inside that time, and a
// confirmed one, are left alone. A second sweep changes nothing.
func TestStaleBookingsGiveTheirSlotBack(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st, ctx := b.Open(t), context.Background()
			now := time.Now().UTC().Truncate(time.Second)
			start := now.Add(48 * time.Hour).Truncate(15 * time.Minute)
			book := func(cprHash string, confirmBy time.Time) string {
				id := uuid.NewString()
				require.NoError(t, st.Book(ctx, store.Booking{Desks: 3,
					Appointment: store.Appointment{ID: id, ReferenceHash: "ref-" + id, Centre: "KBH", StartAt: start, EndAt: start.Add(15 * time.Minute),
						Status: store.AppointmentUnconfirmed, CPRHash: cprHash, CPRMasked: "010190-XXXX", ConfirmBy: confirmBy,
						CreatedAt: now, UpdatedAt: now},
					Notification: store.Notification{ID: uuid.NewString(), DedupeKey: "confirm/" + id, AppointmentID: &id,
						Kind: "booking_confirmation", Body: []byte("sealed"), Status: "queued", CreatedAt: now}}))
				return id
			}
			orphan := book("a", now.Add(-store.StaleBookingGrace-time.Second))
			recent := book("b", now.Add(-time.Second))
			confirmed := book("c", now.Add(-time.Hour))
			_, err := st.MoveAppointment(ctx, store.Move{AppointmentID: confirmed, From: []string{store.AppointmentUnconfirmed},
				To: store.AppointmentBooked, At: now})
			require.NoError(t, err)
			taken := func() int {
				loads, err := st.SlotLoads(ctx, "KBH", start, start.Add(time.Minute))
				require.NoError(t, err)
				return loads[start]
			}
			require.Equal(t, 3, taken())

			n, err := st.ExpireStaleBookings(ctx, now)
			require.NoError(t, err)
			assert.Equal(t, 1, n, "only the orphan is past its deadline and the grace")
			assert.Equal(t, 2, taken(), "its slot is given back")
			for id, want := range map[string]string{orphan: store.AppointmentExpired, recent: store.AppointmentUnconfirmed, confirmed: store.AppointmentBooked} {
				a, err := st.GetAppointment(ctx, id, "KBH")
				require.NoError(t, err)
				assert.Equal(t, want, a.Status, id)
			}

			n, err = st.ExpireStaleBookings(ctx, now)
			require.NoError(t, err)
			assert.Zero(t, n)
			assert.Equal(t, 2, taken(), "the slot is given back once")
		})
	}
}
