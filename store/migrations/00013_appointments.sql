-- appointments at Citizen Service centres (DESIGN.md §7): centres, the load of each
-- slot, the bookings and the outbox of notifications to a person's contact
-- +goose Up
CREATE TABLE centres (
	code TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	kind TEXT NOT NULL,
	address TEXT NOT NULL,
	postcode TEXT NOT NULL,
	city TEXT NOT NULL,
	mon TEXT NOT NULL DEFAULT '',
	tue TEXT NOT NULL DEFAULT '',
	wed TEXT NOT NULL DEFAULT '',
	thu TEXT NOT NULL DEFAULT '',
	fri TEXT NOT NULL DEFAULT '',
	sat TEXT NOT NULL DEFAULT '',
	sun TEXT NOT NULL DEFAULT '',
	slot_minutes INTEGER NOT NULL,
	desks INTEGER NOT NULL CHECK (desks >= 0)
);
INSERT INTO centres (code, name, kind, address, postcode, city, mon, tue, wed, thu, fri, sat, sun, slot_minutes, desks) VALUES
	('KBH', 'Borgerservice København', 'citizen_service', 'Københavns Rådhus, Rådhuspladsen 1', '1599', 'København V', '09:00-17:00', '09:00-17:00', '09:00-17:00', '09:00-18:00', '09:00-15:00', '10:00-14:00', '', 15, 4),
	('AAR', 'Borgerservice Aarhus', 'citizen_service', 'Dokk1, Hack Kampmanns Plads 2', '8000', 'Aarhus C', '10:00-16:00', '10:00-16:00', '10:00-16:00', '10:00-17:30', '10:00-14:00', '', '', 15, 3),
	('ODE', 'Borgerservice Odense', 'citizen_service', 'Odense Rådhus, Flakhaven 2', '5000', 'Odense C', '09:30-15:00', '09:30-15:00', '09:30-15:00', '09:30-17:00', '09:30-13:00', '', '', 15, 2),
	('AAL', 'Borgerservice Aalborg', 'citizen_service', 'Boulevarden 13', '9000', 'Aalborg', '09:00-15:00', '09:00-15:00', '09:00-15:00', '09:00-17:00', '09:00-13:00', '', '', 15, 2);
-- One row per (centre, start) ever booked: taken counts the appointments that
-- hold the slot (unconfirmed, booked, checked_in). It only grows by a
-- conditional increment (taken < desks), so no number of concurrent bookings,
-- in any number of API processes, can overbook a slot.
CREATE TABLE slot_loads (
	centre TEXT NOT NULL,
	start_at {{ts}} NOT NULL,
	taken INTEGER NOT NULL CHECK (taken >= 0),
	PRIMARY KEY (centre, start_at)
);
CREATE TABLE appointments (
	id TEXT PRIMARY KEY,
	reference_hash TEXT NOT NULL UNIQUE,
	centre TEXT NOT NULL,
	start_at {{ts}} NOT NULL,
	end_at {{ts}} NOT NULL,
	status TEXT NOT NULL,
	cpr_hash TEXT NOT NULL,
	cpr_masked TEXT NOT NULL,
	contact_email TEXT,
	contact_phone TEXT,
	code_mac TEXT,
	code_attempts INTEGER NOT NULL DEFAULT 0,
	confirm_by {{ts}} NOT NULL,
	issuance_id TEXT,
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
-- Only a confirmed booking is the person's, and one at a time.
CREATE UNIQUE INDEX appointments_one_booked_per_cpr ON appointments (cpr_hash) WHERE status = 'booked';
CREATE INDEX appointments_by_centre_start ON appointments (centre, start_at);
CREATE TABLE notifications (
	id TEXT PRIMARY KEY,
	dedupe_key TEXT NOT NULL UNIQUE,
	appointment_id TEXT,
	kind TEXT NOT NULL,
	to_email TEXT,
	to_phone TEXT,
	body {{bytes}},
	status TEXT NOT NULL,
	created_at {{ts}} NOT NULL,
	sent_at {{ts}}
);
CREATE INDEX notifications_by_status ON notifications (status, id);
