import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ownDefinerFunctions, secureTenantTable } from '../src/db/migration-helpers';
import { SEARCH_ROLE } from '../src/db/roles';
import { createWordSearchFunction } from '../src/db/search-function-v2';

/**
 * Search as you type (issue 20). Every keystroke is a request, so a search must read a few hundred
 * index entries whatever the prefix, and rank by match quality then recency without scoring every
 * match: the trigram search scored each record that held the words, 789 ms at the median for
 * "northwind robotcs" on a million deals.
 *
 * Measured on the bench's 1.7M records (5.8 words each), one row per record and prefix would be 46M
 * rows (27 per record) and still 25M keeping only 2- and 3-letter prefixes. So the index is one row
 * per record and word (`search_posting`, ~10M), kept by statement triggers in the writing
 * transaction (a record is searchable when its transaction commits), read through three btrees:
 *   - by word, then quality (a word of the name, 0, or of the email, domain or company, 1), then
 *     newest first: a whole word's matches, and a typo's, come out already ranked;
 *   - by the word's first two letters (a stored column), in the same order: a prefix with many
 *     postings ("nort": 40 000) is walked there, newest first, keeping the words that start with it.
 *     It has at least SORT_AT among the stem's postings, so the walk stays short;
 *   - by record, for upkeep and to check a record's other words.
 * A prefix with few postings (SORT_AT or fewer) is read whole from the word index and sorted. A word
 * of four letters or more (and no digit) is also looked for as a typo: the 16 closest words of the vocabulary
 * `search_word` (trigram word similarity 0.4 on a GIN index), then their postings, ranked below every
 * prefix match. Every word of the query must match the record (as a prefix, or as a typo); the
 * longest drives the walk and the others are checked per candidate until the page is full, or past
 * WALK candidates by joining their postings. The walks are static statements, planned once per
 * connection: a search is a few index descents and no planning.
 *
 * The vocabulary is insert-only and not unique (a NOT EXISTS guard, no lock to wait on or deadlock
 * over between concurrent imports); a word no record has any longer is skipped by the typo lookup.
 */
/**
 * Each searchable kind once: the columns whose words are its title's (quality 0) and the rest's
 * (quality 1), and what a hit shows (title, subtitle: SQL over alias `t`).
 */
const SEARCHABLE = [
  { kind: 'account', title: ['name'], other: ['domain'], shows: ['t.name', 't.domain'] },
  { kind: 'contact', title: ['first_name', 'last_name'], other: ['email'], shows: ["concat_ws(' ', t.first_name, t.last_name)", 't.email'] },
  { kind: 'lead', title: ['first_name', 'last_name'], other: ['email', 'company'], shows: ["concat_ws(' ', t.first_name, t.last_name)", 't.company'] },
  { kind: 'opportunity', title: ['name'], other: [] as string[], shows: ['t.name', 'NULL::text'] },
];

/** Candidates walked per tier, for a query of several words, before the rest of the tier is found by joins. */
const WALK = 1000;

/** A prefix with this many postings or fewer is answered by reading them all and sorting. */
const SORT_AT = 2000;

/** The highest code point: `word < prefix || MAX_CHAR` bounds the words that start with a prefix (C collation). */
const MAX_CHAR = `U&'\\+10FFFF'`;

/** The words (and their quality) of `rows`' live records, as SQL over a table alias `n`. */
const wordsOf = (s: (typeof SEARCHABLE)[number], rows: string) => `
  SELECT n.workspace_id, n.id AS record_id, '${s.kind}'::text AS kind, w.word, w.quality, n.created_at
  FROM ${rows} n CROSS JOIN LATERAL trellis_search_words(
    trellis_search_text(${s.title.map((c) => `n.${c}`).join(', ')}),
    ${s.other.length ? `trellis_search_text(${s.other.map((c) => `n.${c}`).join(', ')})` : 'NULL::text'}) w
  WHERE n.deleted_at IS NULL`;

/**
 * Adds the postings of `rows`' live records, and their words the vocabulary lacks. Only words of
 * letters: a typo is a letter off in a name, and words with digits (person123, +44, a postcode) are
 * mostly one-offs that made half the cost of indexing a new contact (each a GIN insert).
 */
const indexRows = (s: (typeof SEARCHABLE)[number], rows: string) => `
  WITH w AS (${wordsOf(s, rows)}),
  p AS (INSERT INTO search_posting (workspace_id, record_id, kind, word, quality, created_at) SELECT * FROM w)
  INSERT INTO search_word (workspace_id, word)
  SELECT DISTINCT w.workspace_id, w.word FROM w
  WHERE w.word !~ '[0-9]' AND NOT EXISTS (SELECT 1 FROM search_word v WHERE v.workspace_id = w.workspace_id AND v.word = w.word)`;

/** The updated rows whose words, deletion or creation time changed. */
const CHANGED = `SELECT n.* FROM new_rows n JOIN old_rows o ON o.id = n.id
  WHERE o.search_text IS DISTINCT FROM n.search_text OR o.deleted_at IS DISTINCT FROM n.deleted_at OR o.created_at IS DISTINCT FROM n.created_at`;

/** A tier's candidate columns, in the order every tier ranks them. */
const CANDIDATE = `p.kind, p.record_id, p.quality`;
const RANKED = `ORDER BY p.quality, p.created_at DESC, p.record_id DESC`;

/** Returns the candidate `rec` as a hit, with its title and subtitle; stops at p_limit hits. */
const EMIT = `
        kind := rec.kind;
        id := rec.record_id;
        score := tier_score - 0.25 * rec.quality;
        ${SEARCHABLE.map(
          (s, i) => `${i ? 'ELSIF' : 'IF'} rec.kind = '${s.kind}' THEN
          SELECT ${s.shows.join(', ')} INTO title, subtitle FROM ${s.kind} t WHERE t.workspace_id = ws AND t.id = rec.record_id;`,
        ).join('\n        ')}
        END IF;
        RETURN NEXT;
        hits := hits || rec.record_id;
        IF cardinality(hits) >= p_limit THEN RETURN; END IF;`;

/**
 * One tier: its candidates (`from`: FROM and WHERE over search_posting p, static SQL), best first.
 * With one word, each is a hit unless it is one already. With several, the first WALK candidates are
 * read at once and checked for the other words in one statement; if there were more (the words are
 * rarely together) and the page is not full, the rest of the tier is found by joining the other
 * words' postings (`rest`: the same candidates as dynamic SQL on $1 ws, $2 kinds, $3 word, $4 its
 * prefix bound).
 */
const TIER = (from: string, rest: string) => `
      IF others_hold = '' THEN
        FOR rec IN SELECT ${CANDIDATE} ${from} ${RANKED} LOOP
          CONTINUE WHEN rec.record_id = ANY(hits);
          ${EMIT}
        END LOOP;
      ELSE
        SELECT array_agg(p.kind ${RANKED}), array_agg(p.record_id ${RANKED}), array_agg(p.quality ${RANKED})
        INTO c_kind, c_id, c_quality FROM (SELECT ${CANDIDATE}, p.created_at ${from} ${RANKED} LIMIT ${WALK}) p;
        FOR rec IN SELECT c.kind, c.record_id, c.quality FROM unnest(c_kind, c_id, c_quality) AS c(kind, record_id, quality)
          WHERE NOT EXISTS (
            SELECT 1 FROM unnest(others, other_typos) AS o(w, t)
            WHERE NOT EXISTS (SELECT 1 FROM search_posting h WHERE h.record_id = c.record_id AND h.workspace_id = ws
              AND ((h.word >= o.w AND h.word < o.w || ${MAX_CHAR}) OR h.word = ANY(o.t::text[])))) LOOP
          CONTINUE WHEN rec.record_id = ANY(hits);
          ${EMIT}
        END LOOP;
        IF cardinality(c_id) >= ${WALK} THEN
          FOR rec IN EXECUTE format('SELECT ${CANDIDATE} FROM search_posting p WHERE p.workspace_id = $1 AND p.kind = ANY($2) AND ${rest} %s ${RANKED}', others_hold)
            USING ws, p_kinds, w, w || ${MAX_CHAR} LOOP
            CONTINUE WHEN rec.record_id = ANY(hits);
            ${EMIT}
          END LOOP;
        END IF;
      END IF;`;

const SEARCH = `
  CREATE FUNCTION trellis_search(p_query text, p_kinds text[], p_limit int)
  RETURNS TABLE (kind text, id uuid, title text, subtitle text, score double precision)
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = public, pg_temp
  -- Its walks are cursors read until the page is full: plan them for their first rows (the index's order), not for all.
  SET cursor_tuple_fraction = 0.001
  AS $fn$
  DECLARE
    ws uuid := NULLIF(current_setting('app.workspace_id', true), '')::uuid;
    words text[];
    d text;              -- the driving word: the longest
    w text;              -- the word a tier looks for (d, or one of its typos)
    others text[];       -- the other words, each matched as a prefix...
    other_typos text[];  -- ...or as one of these typo words (an array literal each)
    others_hold text;    -- the other words' test, as SQL conditions on p.record_id
    hits uuid[] := '{}';
    c_kind text[];       -- a tier's first candidates, when there are other words to check
    c_id uuid[];
    c_quality smallint[];
    tier_score float8;
    rec record;
  BEGIN
    IF ws IS NULL OR p_limit < 1 THEN RETURN; END IF;
    -- Up to 8 distinct words of 2 letters or more (64 at most), in the order typed.
    SELECT array_agg(x ORDER BY i) INTO words FROM (
      SELECT left(x, 64) AS x, min(i) AS i FROM regexp_split_to_table(trellis_search_text(p_query), '[^[:alnum:]]+') WITH ORDINALITY AS t(x, i)
      WHERE length(x) >= 2 GROUP BY left(x, 64) ORDER BY min(i) LIMIT 8) y;
    IF words IS NULL THEN RETURN; END IF;
    SELECT x INTO d FROM unnest(words) WITH ORDINALITY AS t(x, i) ORDER BY length(x) DESC, i LIMIT 1;
    others := array(SELECT x FROM unnest(words) x WHERE x <> d);
    other_typos := array(SELECT coalesce(trellis_search_typos(ws, x)::text, '{}') FROM unnest(others) x);
    -- A record must hold every other word: as the start of one of its words, or as one of that word's typos.
    others_hold := coalesce((SELECT string_agg(format($q$ AND p.record_id IN (SELECT h.record_id FROM search_posting h WHERE h.workspace_id = $1
        AND ((h.word >= %L AND h.word < %L || ${MAX_CHAR}) OR h.word = ANY(%L::text[])))$q$, o.w, o.w, o.t), '')
      FROM unnest(others, other_typos) AS o(w, t)), '');

    -- Tier 0: d is a whole word of the record.
    w := d;
    tier_score := 3;
    ${TIER('FROM search_posting p WHERE p.workspace_id = ws AND p.word = w AND p.kind = ANY(p_kinds)', 'p.word = $3')}

    -- Tier 1: a word starts with d. Few postings (SORT_AT): read them all and sort. Else walk the
    -- 2-letter stem's list, where they are many; the prefix test is written so that it cannot be an
    -- index condition, for the stem index to be read in its order.
    tier_score := 2;
    IF (SELECT count(*) FROM (SELECT 1 FROM search_posting p WHERE p.workspace_id = ws
        AND p.word > d AND p.word < d || ${MAX_CHAR} LIMIT ${SORT_AT} + 1) x) <= ${SORT_AT} THEN
      ${TIER(`FROM search_posting p WHERE p.workspace_id = ws AND p.word > w AND p.word < w || ${MAX_CHAR} AND p.kind = ANY(p_kinds)`, 'p.word > $3 AND p.word < $4')}
    ELSE
      ${TIER(
        'FROM search_posting p WHERE p.workspace_id = ws AND p.stem = left(w, 2) AND left(p.word, length(w)) = w AND p.word <> w AND p.kind = ANY(p_kinds)',
        'p.word > $3 AND p.word < $4',
      )}
    END IF;

    -- Tier 2: a word is a typo of d, the closest first.
    FOREACH w IN ARRAY coalesce(trellis_search_typos(ws, d), '{}') LOOP
      tier_score := 1 + 0.5 * word_similarity(d, w);
      ${TIER('FROM search_posting p WHERE p.workspace_id = ws AND p.word = w AND p.kind = ANY(p_kinds)', 'p.word = $3')}
    END LOOP;
  END $fn$`;

export class SearchAsYouType1765700000000 implements MigrationInterface {
  name = 'SearchAsYouType1765700000000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`
      CREATE TABLE search_posting (
        workspace_id uuid NOT NULL,
        record_id uuid NOT NULL,
        kind text NOT NULL,
        word text COLLATE "C" NOT NULL,
        quality smallint NOT NULL,
        created_at timestamptz NOT NULL,
        -- A column, not an expression index: under row-level security only a leakproof test (text
        -- equality, not left()) lets the planner read the index in its order instead of sorting every match.
        stem text COLLATE "C" GENERATED ALWAYS AS (left(word, 2)) STORED
      )`);
    await qr.query(`CREATE INDEX search_posting_word_idx ON search_posting (workspace_id, word, quality, created_at DESC, record_id DESC) INCLUDE (kind)`);
    await qr.query(
      `CREATE INDEX search_posting_stem_idx ON search_posting (workspace_id, stem, quality, created_at DESC, record_id DESC) INCLUDE (word, kind)`,
    );
    await qr.query(`CREATE INDEX search_posting_record_idx ON search_posting (record_id)`);
    await qr.query(`CREATE TABLE search_word (workspace_id uuid NOT NULL, word text COLLATE "C" NOT NULL)`);
    await qr.query(`CREATE INDEX search_word_idx ON search_word (workspace_id, word)`);
    await qr.query(`CREATE INDEX search_word_trgm_idx ON search_word USING gin (workspace_id, word gin_trgm_ops)`);
    for (const t of ['search_posting', 'search_word']) {
      await secureTenantTable(qr, t);
      await qr.query(`GRANT SELECT ON ${t} TO ${SEARCH_ROLE}`);
      await qr.query(`CREATE POLICY search_read ON ${t} FOR SELECT TO ${SEARCH_ROLE} USING (true)`);
    }

    // A text's words of 2 letters or more (cut at 64), each with its best quality: 0 in the title, 1 in the rest.
    await qr.query(`
      CREATE FUNCTION trellis_search_words(p_title text, p_other text) RETURNS TABLE (word text, quality smallint)
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT left(w, 64), min(q)::smallint FROM (
          SELECT w, 0 AS q FROM regexp_split_to_table(p_title, '[^[:alnum:]]+') w
          UNION ALL SELECT w, 1 FROM regexp_split_to_table(p_other, '[^[:alnum:]]+') w) x
        WHERE length(w) >= 2 GROUP BY left(w, 64)
      $$`);
    // The vocabulary's words closest to a word of 4 letters or more that no word starts with it: its typos.
    await qr.query(`
      CREATE FUNCTION trellis_search_typos(p_ws uuid, p_word text) RETURNS text[]
      LANGUAGE sql STABLE SET pg_trgm.word_similarity_threshold = 0.4 AS $$
        SELECT array_agg(word ORDER BY sim DESC, word) FROM (
          SELECT DISTINCT v.word, word_similarity(p_word, v.word) AS sim FROM search_word v
          WHERE length(p_word) >= 4 AND p_word !~ '[0-9]' AND v.workspace_id = p_ws AND p_word <% v.word
            AND NOT (v.word >= p_word AND v.word < p_word || ${MAX_CHAR})
            AND EXISTS (SELECT 1 FROM search_posting p WHERE p.workspace_id = p_ws AND p.word = v.word)
          ORDER BY sim DESC, v.word LIMIT 16) t
      $$`);
    for (const s of SEARCHABLE) {
      await qr.query(`
        CREATE FUNCTION trellis_search_index_${s.kind}() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
          IF TG_OP = 'INSERT' THEN
            ${indexRows(s, 'new_rows')};
          ELSIF TG_OP = 'DELETE' THEN
            DELETE FROM search_posting p USING old_rows o WHERE p.record_id = o.id;
          ELSE
            -- Only the records whose words, deletion or creation time changed.
            DELETE FROM search_posting p USING (${CHANGED}) c WHERE p.record_id = c.id;
            ${indexRows(s, `(${CHANGED})`)};
          END IF;
          RETURN NULL;
        END $fn$`);
      await qr.query(`CREATE TRIGGER ${s.kind}_search_insert AFTER INSERT ON ${s.kind} REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION trellis_search_index_${s.kind}()`);
      await qr.query(`CREATE TRIGGER ${s.kind}_search_update AFTER UPDATE ON ${s.kind} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION trellis_search_index_${s.kind}()`);
      await qr.query(`CREATE TRIGGER ${s.kind}_search_delete AFTER DELETE ON ${s.kind} REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION trellis_search_index_${s.kind}()`);
    }

    // Rebuilds a workspace's postings from its records: after a load that bypassed the triggers (the bench's COPY), and here.
    await qr.query(`
      CREATE FUNCTION trellis_rebuild_search(p_workspace uuid) RETURNS void LANGUAGE plpgsql AS $fn$
      DECLARE was text := current_setting('app.workspace_id', true);
      BEGIN
        PERFORM set_config('app.workspace_id', p_workspace::text, true);
        DELETE FROM search_posting WHERE workspace_id = p_workspace;
        DELETE FROM search_word WHERE workspace_id = p_workspace;
        ${SEARCHABLE.map((s) => `${indexRows(s, `(SELECT * FROM ${s.kind} WHERE workspace_id = p_workspace)`)};`).join('\n        ')}
        PERFORM set_config('app.workspace_id', coalesce(was, ''), true);
      END $fn$`);
    await qr.query(`SELECT trellis_rebuild_search(id) FROM workspace`);

    await qr.query(`DROP FUNCTION trellis_search(text, text[], int)`);
    await qr.query(SEARCH);
    await ownDefinerFunctions(qr, SEARCH_ROLE, ['trellis_search(text, text[], int)']);
    // Helpers of trellis_search, which runs as the search role: nobody else calls them.
    await qr.query(`REVOKE ALL ON FUNCTION trellis_search_typos(uuid, text) FROM PUBLIC`);
    await qr.query(`GRANT EXECUTE ON FUNCTION trellis_search_typos(uuid, text) TO ${SEARCH_ROLE}`);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`DROP FUNCTION trellis_search(text, text[], int)`);
    await createWordSearchFunction(qr);
    await qr.query(`DROP FUNCTION trellis_rebuild_search(uuid)`);
    for (const s of SEARCHABLE) {
      for (const op of ['insert', 'update', 'delete']) await qr.query(`DROP TRIGGER ${s.kind}_search_${op} ON ${s.kind}`);
      await qr.query(`DROP FUNCTION trellis_search_index_${s.kind}()`);
    }
    await qr.query(`DROP FUNCTION trellis_search_typos(uuid, text)`);
    await qr.query(`DROP FUNCTION trellis_search_words(text, text)`);
    await qr.query(`DROP TABLE search_word`);
    await qr.query(`DROP TABLE search_posting`);
  }
}
