package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// DecoyReset is the state of a password reset for a NemID number with
// nothing to reset (migration 00018): what makes a decoy answer like a real
// reset, a new key after a wrong code and a lock after three.
type DecoyReset struct {
	NumberMAC    string `gorm:"primaryKey"` // a keyed MAC of the number, never the number
	ChallengeID  string // the challenge it shows now; an answered one is renamed, so it counts once
	WrongAnswers int
	UpdatedAt    time.Time
}

func (DecoyReset) TableName() string { return "decoy_resets" }

// DecoyWrongAnswers is how many wrong codes the decoy of numberMAC has
// been answered with (0 for a decoy never shown).
func (s *Store) DecoyWrongAnswers(ctx context.Context, numberMAC string) (int, error) {
	var counts []int
	err := s.db.WithContext(ctx).Model(&DecoyReset{}).Where("number_mac = ?", numberMAC).Pluck("wrong_answers", &counts).Error
	if err != nil {
		return 0, fmt.Errorf("read decoy reset: %w", err)
	}
	if len(counts) == 0 {
		return 0, nil
	}
	return counts[0], nil
}

// ShowDecoyReset records the challenge the decoy of numberMAC shows now.
func (s *Store) ShowDecoyReset(ctx context.Context, numberMAC, challengeID string, at time.Time) error {
	row := DecoyReset{NumberMAC: numberMAC, ChallengeID: challengeID, UpdatedAt: at}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "number_mac"}},
		DoUpdates: clause.AssignmentColumns([]string{"challenge_id", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("show decoy reset: %w", err)
	}
	return nil
}

// AnswerDecoyReset counts a wrong answer to the decoy challenge id, once:
// the challenge is renamed in the same statement, so a second answer to it
// matches nothing (a real challenge closes at its first answer). It
// reports whether id was a decoy's current challenge.
func (s *Store) AnswerDecoyReset(ctx context.Context, id string, at time.Time) (bool, error) {
	res := s.db.WithContext(ctx).Exec(`UPDATE decoy_resets SET wrong_answers = wrong_answers + 1,
		challenge_id = 'answered:' || challenge_id, updated_at = ? WHERE challenge_id = ?`, at, id)
	if res.Error != nil {
		return false, fmt.Errorf("answer decoy reset: %w", res.Error)
	}
	return res.RowsAffected > 0, nil
}
