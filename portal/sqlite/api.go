package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/porticoapi/portico/portal"
)

const apiColumns = `a.id, a.name, a.display_name, a.description, a.version, a.path, a.backend_url, a.backend_timeout_ns,
	a.subscription_required, a.key_header, a.key_query, a.spec_location, a.spec_format, a.spec_digest, a.created_at, a.updated_at,
	a.policies, a.backend_auth`

func (s *Store) scanAPI(row scanner, extra ...any) (*portal.API, error) {
	a := &portal.API{}
	var policies, auth []byte
	dest := append([]any{&a.ID, &a.Name, &a.DisplayName, &a.Description, &a.Version, &a.Path, &a.Backend.URL,
		(*int64)(&a.Backend.Timeout), &a.SubscriptionRequired, &a.KeyHeader, &a.KeyQuery,
		&a.Spec.Location, &a.Spec.Format, &a.Spec.Digest, timeDest{&a.CreatedAt}, timeDest{&a.UpdatedAt},
		&policies, &auth}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if err := s.openSealed(policies, &a.Policies); err != nil {
		return nil, fmt.Errorf("api %s policies: %w", a.Name, err)
	}
	if auth != nil {
		a.Backend.Auth = &portal.BackendAuth{}
		if err := s.openSealed(auth, a.Backend.Auth); err != nil {
			return nil, fmt.Errorf("api %s backend auth: %w", a.Name, err)
		}
	}
	return a, nil
}

// Policies and backend authentication are stored as JSON of the portal
// types, sealed because both may hold secrets (a symmetric signing key, a
// backend password). The JSON uses the Go field names: renaming one of
// those fields needs a migration of the stored documents.

// seal returns the sealed JSON of v, or nil (SQL NULL) when empty is true.
func (s *Store) seal(v any, empty bool) ([]byte, error) {
	if empty {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return s.keys.Seal(b), nil
}

// openSealed decodes what seal stored into v; NULL leaves v as it is.
func (s *Store) openSealed(sealed []byte, v any) error {
	if sealed == nil {
		return nil
	}
	b, err := s.keys.Open(sealed)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// sealAPI returns the stored forms of a's policies and backend auth.
func (s *Store) sealAPI(a *portal.API) (policies, auth []byte, err error) {
	if policies, err = s.seal(&a.Policies, a.Policies.Empty()); err != nil {
		return nil, nil, fmt.Errorf("encode api policies: %w", err)
	}
	if auth, err = s.seal(a.Backend.Auth, a.Backend.Auth.Empty()); err != nil {
		return nil, nil, fmt.Errorf("encode api backend auth: %w", err)
	}
	return policies, auth, nil
}

// operationDetail is what the operations table keeps as JSON: the parts of
// portal.Operation the gateway does not route on. Its own JSON names keep
// the stored form apart from Go field names at this level.
type operationDetail struct {
	Summary     string              `json:"summary,omitempty"`
	Description string              `json:"description,omitempty"`
	Tags        []string            `json:"tags,omitempty"`
	Deprecated  bool                `json:"deprecated,omitempty"`
	Parameters  []portal.Parameter  `json:"parameters,omitempty"`
	RequestBody *portal.RequestBody `json:"request_body,omitempty"`
	Responses   []portal.Response   `json:"responses,omitempty"`
}

// FindAPIByName returns the API with its operations. Returns ENOTFOUND.
func (s *Store) FindAPIByName(ctx context.Context, name string) (*portal.API, error) {
	var a *portal.API
	err := s.view(ctx, func(tx *sql.Tx) (err error) {
		a, err = s.findAPI(ctx, tx, name)
		return err
	})
	return a, err
}

// findAPI loads an API with its tags and operations.
func (s *Store) findAPI(ctx context.Context, tx *sql.Tx, name string) (*portal.API, error) {
	a, err := s.scanAPI(tx.QueryRowContext(ctx, `SELECT `+apiColumns+` FROM apis a WHERE a.name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("API %s not found.", name)
	} else if err != nil {
		return nil, fmt.Errorf("find api: %w", err)
	}
	apis := []*portal.API{a}
	if err := loadTags(ctx, tx, apis); err != nil {
		return nil, err
	}
	if err := loadOperations(ctx, tx, apis); err != nil {
		return nil, err
	}
	return a, nil
}

// apiConds returns the WHERE conditions and arguments of f, shared by
// FindAPIs and FindAPITags.
func apiConds(f portal.APIFilter) ([]string, []any, error) {
	var conds []string
	var args []any
	if len(f.Names) > 0 {
		names, err := json.Marshal(f.Names)
		if err != nil {
			return nil, nil, fmt.Errorf("find apis: %w", err)
		}
		conds, args = append(conds, "a.name IN (SELECT value FROM json_each(?))"), append(args, string(names))
	}
	if q := searchText(f.Query); q != "" {
		conds = append(conds, "(instr(lower(a.name), ?) > 0 OR instr(lower(a.display_name), ?) > 0 OR instr(lower(a.description), ?) > 0)")
		args = append(args, q, q, q)
	}
	if f.Tag != "" {
		conds, args = append(conds, "EXISTS (SELECT 1 FROM api_tags t WHERE t.api_id = a.id AND t.tag = ?)"), append(args, f.Tag)
	}
	if f.Anonymous || (f.VisibleTo != nil && !f.VisibleTo.IsAdmin()) {
		conds = append(conds, `(NOT EXISTS (SELECT 1 FROM product_apis pa WHERE pa.api_id = a.id)
			OR EXISTS (SELECT 1 FROM product_apis pa JOIN products p ON p.id = pa.product_id
				WHERE pa.api_id = a.id AND p.state = 'published'))`)
	}

	return conds, args, nil
}

// FindAPITags returns the distinct tags of the APIs matching f, in one
// query, so that the catalogue's tag filter never loads every API.
func (s *Store) FindAPITags(ctx context.Context, f portal.APIFilter) ([]string, error) {
	conds, args, err := apiConds(f)
	if err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT DISTINCT t.tag FROM api_tags t JOIN apis a ON a.id = t.api_id`+
		where(conds)+` ORDER BY lower(t.tag), t.tag`, args...)
	if err != nil {
		return nil, fmt.Errorf("find api tags: %w", err)
	}
	defer rows.Close()
	var tags []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("find api tags: %w", err)
		}
		tags = append(tags, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find api tags: %w", err)
	}
	return tags, nil
}

// apiID returns the id of the API named name. Returns ENOTFOUND.
func apiID(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM apis WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("API %s not found.", name)
	} else if err != nil {
		return 0, fmt.Errorf("find api: %w", err)
	}
	return id, nil
}

// FindAPIs returns APIs ordered by name and the total matching the filter.
// It runs one query for the page and one each for the page's tags and, when
// asked, operations, however many APIs there are.
func (s *Store) FindAPIs(ctx context.Context, f portal.APIFilter) ([]*portal.API, int, error) {
	conds, args, err := apiConds(f)
	if err != nil {
		return nil, 0, err
	}

	var apis []*portal.API
	var total int
	err = s.view(ctx, func(tx *sql.Tx) error {
		// The page and the count are two queries: a window count over the
		// page query would read and sort every matching row, where the
		// page alone walks the name index and stops at the limit.
		rows, err := tx.QueryContext(ctx, `SELECT `+apiColumns+` FROM apis a`+
			where(conds)+` ORDER BY a.name`+page(f.Offset, f.Limit), args...)
		if err != nil {
			return fmt.Errorf("find apis: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			a, err := s.scanAPI(rows)
			if err != nil {
				return fmt.Errorf("find apis: %w", err)
			}
			apis = append(apis, a)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("find apis: %w", err)
		}
		rows.Close()
		if f.Offset == 0 && (f.Limit <= 0 || len(apis) < f.Limit) {
			total = len(apis) // all of them are on this page
		} else if err := countRows(ctx, tx, &total, `SELECT count(*) FROM apis a`+where(conds), args); err != nil {
			return err
		}
		if len(apis) == 0 {
			return nil
		}
		if err := loadTags(ctx, tx, apis); err != nil {
			return err
		}
		if f.WithOperations {
			return loadOperations(ctx, tx, apis)
		}
		return nil
	})
	return apis, total, err
}

func apiIDs(apis []*portal.API) (string, map[int64]*portal.API) {
	ids := make([]int64, len(apis))
	byID := make(map[int64]*portal.API, len(apis))
	for i, a := range apis {
		ids[i] = a.ID
		byID[a.ID] = a
	}
	return jsonIDs(ids), byID
}

// loadTags fills the tags of apis in one query.
func loadTags(ctx context.Context, tx *sql.Tx, apis []*portal.API) error {
	ids, byID := apiIDs(apis)
	rows, err := tx.QueryContext(ctx, `SELECT api_id, tag FROM api_tags
		WHERE api_id IN (SELECT value FROM json_each(?)) ORDER BY api_id, position`, ids)
	if err != nil {
		return fmt.Errorf("load api tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var tag string
		if err := rows.Scan(&id, &tag); err != nil {
			return fmt.Errorf("load api tags: %w", err)
		}
		byID[id].Tags = append(byID[id].Tags, tag)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load api tags: %w", err)
	}
	return nil
}

// loadOperations fills the operations of apis in one query. An API without
// operations gets an empty, non-nil slice: loaded, and there are none.
func loadOperations(ctx context.Context, tx *sql.Tx, apis []*portal.API) error {
	ids, byID := apiIDs(apis)
	for _, a := range apis {
		a.Operations = []portal.Operation{}
	}
	rows, err := tx.QueryContext(ctx, `SELECT api_id, op_id, method, path, detail FROM operations
		WHERE api_id IN (SELECT value FROM json_each(?)) ORDER BY api_id, position`, ids)
	if err != nil {
		return fmt.Errorf("load operations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var op portal.Operation
		var detail []byte
		if err := rows.Scan(&id, &op.ID, &op.Method, &op.Path, &detail); err != nil {
			return fmt.Errorf("load operations: %w", err)
		}
		var d operationDetail
		if err := json.Unmarshal(detail, &d); err != nil {
			return fmt.Errorf("load operation %s: %w", op.ID, err)
		}
		op.Summary, op.Description, op.Tags, op.Deprecated = d.Summary, d.Description, d.Tags, d.Deprecated
		op.Parameters, op.RequestBody, op.Responses = d.Parameters, d.RequestBody, d.Responses
		byID[id].Operations = append(byID[id].Operations, op)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load operations: %w", err)
	}
	return nil
}

// FindAPISpec returns the stored OpenAPI document. Returns ENOTFOUND when
// there is no such API or it has no document.
func (s *Store) FindAPISpec(ctx context.Context, name string) ([]byte, portal.SpecInfo, error) {
	var doc []byte
	var info portal.SpecInfo
	err := s.view(ctx, func(tx *sql.Tx) error {
		var hasDoc bool
		err := tx.QueryRowContext(ctx, `SELECT a.spec_location, a.spec_format, a.spec_digest, s.document IS NOT NULL, coalesce(s.document, x'')
			FROM apis a LEFT JOIN api_specs s ON s.api_id = a.id WHERE a.name = ?`, name).
			Scan(&info.Location, &info.Format, &info.Digest, &hasDoc, &doc)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("API %s not found.", name)
		} else if err != nil {
			return fmt.Errorf("find api spec: %w", err)
		}
		if !hasDoc {
			return notFound("API %s has no OpenAPI document.", name)
		}
		return nil
	})
	if err != nil {
		return nil, portal.SpecInfo{}, err
	}
	return doc, info, nil
}

// CreateAPI normalizes and validates api, then stores it. Returns EINVALID
// or ECONFLICT.
func (s *Store) CreateAPI(ctx context.Context, api *portal.API) error {
	api.Normalize()
	if err := api.Validate(); err != nil {
		return err
	}
	return s.change(ctx, func(tx *sql.Tx) error { return s.insertAPI(ctx, tx, api) })
}

func (s *Store) insertAPI(ctx context.Context, tx *sql.Tx, a *portal.API) error {
	now := s.nowUTC()
	policies, auth, err := s.sealAPI(a)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO apis (name, display_name, description, version, path, backend_url,
		backend_timeout_ns, subscription_required, key_header, key_query, spec_location, spec_format, spec_digest,
		created_at, updated_at, policies, backend_auth) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.Name, a.DisplayName, a.Description, a.Version, a.Path, a.Backend.URL, int64(a.Backend.Timeout),
		a.SubscriptionRequired, a.KeyHeader, a.KeyQuery, a.Spec.Location, a.Spec.Format, a.Spec.Digest,
		formatTime(now), formatTime(now), policies, auth)
	if err != nil {
		return conflict(ctx, tx, err, "insert api", a)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("insert api: %w", err)
	}
	// Without operations there is nothing to derive tags from, so the
	// caller's tags are kept.
	if err := writeTags(ctx, tx, id, a.Tags); err != nil {
		return err
	}
	if err := writeOperations(ctx, tx, id, a.Operations); err != nil {
		return err
	}
	if err := writeSpec(ctx, tx, id, a.SpecDocument); err != nil {
		return err
	}
	a.ID, a.CreatedAt, a.UpdatedAt = id, now, now
	return nil
}

// updateAPI writes a over the row with id. Operations (and the tags derived
// from them) are replaced only when a.Operations is non-nil, the document
// only when a.SpecDocument is non-nil.
func (s *Store) updateAPI(ctx context.Context, tx *sql.Tx, id int64, a *portal.API) error {
	now := s.nowUTC()
	policies, auth, err := s.sealAPI(a)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE apis SET name = ?, display_name = ?, description = ?, version = ?, path = ?,
		backend_url = ?, backend_timeout_ns = ?, subscription_required = ?, key_header = ?, key_query = ?,
		spec_location = ?, spec_format = ?, spec_digest = ?, updated_at = ?, policies = ?, backend_auth = ? WHERE id = ?`,
		a.Name, a.DisplayName, a.Description, a.Version, a.Path, a.Backend.URL, int64(a.Backend.Timeout),
		a.SubscriptionRequired, a.KeyHeader, a.KeyQuery, a.Spec.Location, a.Spec.Format, a.Spec.Digest,
		formatTime(now), policies, auth, id); err != nil {
		return conflict(ctx, tx, err, "update api", a)
	}
	if a.Operations != nil {
		for _, q := range []string{`DELETE FROM operations WHERE api_id = ?`, `DELETE FROM api_tags WHERE api_id = ?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("replace operations: %w", err)
			}
		}
		if err := writeTags(ctx, tx, id, a.Tags); err != nil {
			return err
		}
		if err := writeOperations(ctx, tx, id, a.Operations); err != nil {
			return err
		}
	}
	if a.SpecDocument != nil {
		if _, err := tx.ExecContext(ctx, `DELETE FROM api_specs WHERE api_id = ?`, id); err != nil {
			return fmt.Errorf("replace api spec: %w", err)
		}
		if err := writeSpec(ctx, tx, id, a.SpecDocument); err != nil {
			return err
		}
	}
	a.ID, a.UpdatedAt = id, now
	return nil
}

func writeTags(ctx context.Context, tx *sql.Tx, apiID int64, tags []string) error {
	for i, tag := range tags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO api_tags (api_id, position, tag) VALUES (?, ?, ?)`, apiID, i, tag); err != nil {
			return fmt.Errorf("insert api tag: %w", err)
		}
	}
	return nil
}

func writeOperations(ctx context.Context, tx *sql.Tx, apiID int64, ops []portal.Operation) error {
	for i := range ops {
		op := &ops[i]
		detail, err := json.Marshal(operationDetail{
			Summary: op.Summary, Description: op.Description, Tags: op.Tags, Deprecated: op.Deprecated,
			Parameters: op.Parameters, RequestBody: op.RequestBody, Responses: op.Responses,
		})
		if err != nil {
			return fmt.Errorf("encode operation %s: %w", op.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO operations (api_id, position, op_id, method, path, detail)
			VALUES (?, ?, ?, ?, ?, ?)`, apiID, i, op.ID, op.Method, op.Path, string(detail)); err != nil {
			return fmt.Errorf("insert operation %s: %w", op.ID, err)
		}
	}
	return nil
}

// writeSpec stores doc; an empty document is no document.
func writeSpec(ctx context.Context, tx *sql.Tx, apiID int64, doc []byte) error {
	if len(doc) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO api_specs (api_id, document) VALUES (?, ?)`, apiID, doc); err != nil {
		return fmt.Errorf("insert api spec: %w", err)
	}
	return nil
}

// UpdateAPI replaces the API named name with api. Returns ENOTFOUND,
// EINVALID or ECONFLICT.
func (s *Store) UpdateAPI(ctx context.Context, name string, api *portal.API) (*portal.API, error) {
	api.Normalize()
	if err := api.Validate(); err != nil {
		return nil, err
	}
	var out *portal.API
	err := s.change(ctx, func(tx *sql.Tx) error {
		id, err := apiID(ctx, tx, name)
		if err != nil {
			return err
		}
		if err := s.updateAPI(ctx, tx, id, api); err != nil {
			return err
		}
		out, err = s.findAPI(ctx, tx, api.Name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteAPI removes the API; the schema's cascades remove its operations,
// document, product memberships and the subscriptions scoped to it.
// Returns ENOTFOUND.
func (s *Store) DeleteAPI(ctx context.Context, name string) error {
	return s.change(ctx, func(tx *sql.Tx) error { return deleteAPI(ctx, tx, name) })
}

func deleteAPI(ctx context.Context, tx *sql.Tx, name string) error {
	res, err := tx.ExecContext(ctx, `DELETE FROM apis WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("delete api: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete api: %w", err)
	} else if n == 0 {
		return notFound("API %s not found.", name)
	}
	return nil
}
