package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// RewriteForTest makes a credential look as a database from before key ids
// and the pepper stored it: the given (plain argon2id) password hash, and
// bare hex MACs for its temporary password and codes (MACs of key "0",
// the id a bare NEMID_HASH_KEY has, were stored bare before key ids). Tests of the upgrade
// path use it; nothing else does.
func (s *Store) RewriteForTest(ctx context.Context, credentialID, passwordHash string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE credentials SET password_hash = ?,
			temporary_password_mac = substr(temporary_password_mac, 3) WHERE id = ? AND temporary_password_mac LIKE '0:%'`,
			passwordHash, credentialID).Error; err != nil {
			return fmt.Errorf("rewrite credential: %w", err)
		}
		return tx.Exec(`UPDATE card_codes SET code_mac = substr(code_mac, 3)
			WHERE code_mac LIKE '0:%' AND card_number IN (SELECT card_number FROM code_cards WHERE credential_id = ?)`, credentialID).Error
	})
}

// ScanForTests reads one value for a test's assertion.
func (s *Store) ScanForTests(ctx context.Context, into any, query string, args ...any) error {
	return s.db.WithContext(ctx).Raw(query, args...).Row().Scan(into)
}

// DropCardsForTest removes a credential's code cards and codes, leaving the
// credential: the damage a test of the minting activity's retry needs.
func (s *Store) DropCardsForTest(ctx context.Context, credentialID string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`DELETE FROM card_codes WHERE card_number IN (SELECT card_number FROM code_cards WHERE credential_id = ?)`,
			credentialID).Error; err != nil {
			return err
		}
		return tx.Exec(`DELETE FROM code_cards WHERE credential_id = ?`, credentialID).Error
	})
}
