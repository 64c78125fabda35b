package store

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// MigrateLegacyForTest migrates the way the hand-written runner did before
// goose (the code below is that runner's, reading the same SQL): each
// migration up to version upTo in a transaction, split on ";", recorded in
// schema_migrations (version, name, applied_at). Upgrade tests start from
// the database it leaves.
func (s *Store) MigrateLegacyForTest(ctx context.Context, upTo int) error {
	type migration struct {
		version int
		name    string
		sql     string
	}
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	var migrations []migration
	for _, e := range entries {
		parts := strings.SplitN(strings.TrimSuffix(e.Name(), ".sql"), "_", 2)
		v, err := strconv.Atoi(parts[0])
		if err != nil {
			return err
		}
		if v > upTo {
			continue
		}
		b, err := fs.ReadFile(migrationFiles, "migrations/"+e.Name())
		if err != nil {
			return err
		}
		migrations = append(migrations, migration{v, parts[1], string(b)})
	}
	sort.Slice(migrations, func(i, j int) bool { return migrations[i].version < migrations[j].version })

	db := s.db.WithContext(ctx)
	if err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ` +
		dialectTypes[s.dialect].Replace("{{ts}}") + ` NOT NULL)`).Error; err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range migrations {
		err := db.Transaction(func(tx *gorm.DB) error {
			if s.dialect == "postgres" {
				if err := tx.Exec("SELECT pg_advisory_xact_lock(7220470)").Error; err != nil {
					return err
				}
			}
			var n int64
			if err := tx.Table("schema_migrations").Where("version = ?", m.version).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			for _, stmt := range strings.Split(dialectTypes[s.dialect].Replace(m.sql), ";") {
				if strings.TrimSpace(stmt) == "" {
					continue
				}
				if err := tx.Exec(stmt).Error; err != nil {
					return fmt.Errorf("%w in: %s", err, strings.TrimSpace(stmt))
				}
			}
			return tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.version, m.name, time.Now().UTC()).Error
		})
		if err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

// MigrateBeforeForTest applies the migrations before version v (the
// database an upgrade to v starts from).
func (s *Store) MigrateBeforeForTest(ctx context.Context, v int64) error {
	p, _, err := s.provider()
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, v-1)
	return err
}

// MigrationVersionsForTest are the versions of the migration files, in
// order. Branches take their numbers in advance, so a branch may lack some.
func MigrationVersionsForTest() ([]int, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range entries {
		v, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	sort.Ints(out)
	return out, nil
}

// SchemaForTest lists every table's columns and every index of the
// application's schema (not the migration runners' own tables), sorted.
func (s *Store) SchemaForTest(ctx context.Context) ([]string, error) {
	q := `SELECT m.name || '.' || p.name || ' ' || p.type || CASE WHEN p."notnull" = 1 THEN ' NOT NULL' ELSE '' END || ' ' || COALESCE(p.dflt_value, '')
		FROM sqlite_master m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT IN ('goose_db_version', 'schema_migrations', 'sqlite_sequence')
		UNION ALL SELECT 'index ' || name || ' ' || COALESCE(sql, '') FROM sqlite_master
		WHERE type = 'index' AND tbl_name NOT IN ('goose_db_version', 'schema_migrations')`
	if s.dialect == "postgres" {
		q = `SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || COALESCE(column_default, '')
			FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name NOT IN ('goose_db_version', 'schema_migrations')
			UNION ALL SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes
			WHERE schemaname = current_schema() AND tablename NOT IN ('goose_db_version', 'schema_migrations')`
	}
	var out []string
	if err := s.db.WithContext(ctx).Raw(q).Scan(&out).Error; err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}

// AppliedVersionsForTest are the versions goose records as applied.
func (s *Store) AppliedVersionsForTest(ctx context.Context) ([]int, error) {
	var out []int
	err := s.db.WithContext(ctx).Raw("SELECT version_id FROM goose_db_version WHERE is_applied ORDER BY version_id").Scan(&out).Error
	return out, err
}

// OneCounterShardForTest makes every counter write use a single shard per
// key, as a design without shards would, until the returned function
// restores the shards. Only for the benchmark of what the shards are for:
// the counters it writes meanwhile are summed right but not sharded by id.
func OneCounterShardForTest() (restore func()) {
	shardOf = func(string) string { return "0" }
	return func() { shardOf = countShard }
}
