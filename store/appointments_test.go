package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/domain"
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

// TestBuiltInCentresAreSeededAndImportedOnesJoinThem: the store's centres
// are the ones in force. The built-in four are seeded there, and letters
// care of them read exactly as the built-in list addresses them; a centre
// an import adds is one of them from then on.
func TestBuiltInCentresAreSeededAndImportedOnesJoinThem(t *testing.T) {
	st, ctx := testenv.SQLite(t), context.Background()
	for _, want := range domain.Centres() {
		got, err := st.GetCentre(ctx, want.Code)
		require.NoError(t, err, "centre %s is seeded", want.Code)
		assert.Equal(t, want, got.Centre(), "centre %s as letters care of it read", want.Code)
	}
	_, err := st.GetCentre(ctx, "HEL")
	require.ErrorIs(t, err, store.ErrNotFound)
	hel := domain.ServiceCentre{Code: "HEL", Name: "Borgerservice Helsingør", Kind: domain.CentreCitizenService,
		Address: "Helsingør Rådhus, Stengade 59", Postcode: "3000", City: "Helsingør",
		Hours: [7]string{"09:00-15:00", "09:00-15:00", "", "", "", "", ""}, SlotMinutes: 15, Desks: 2}
	require.NoError(t, st.UpsertCentres(ctx, []domain.ServiceCentre{hel}))
	got, err := st.GetCentre(ctx, "HEL")
	require.NoError(t, err)
	assert.Equal(t, domain.Centre{Code: "HEL", Name: "Borgerservice Helsingør", Address: domain.Address{
		Lines: []string{"Helsingør Rådhus", "Stengade 59"}, Postcode: "3000", City: "Helsingør", Country: "DK"}}, got.Centre())
	all, err := st.ListCentres(ctx)
	require.NoError(t, err)
	assert.Len(t, all, 5)
}
