/**
 * Differential test: the SQLite back end (src/db/filter-sql.ts through repo.listResources) selects exactly the
 * resources the in-memory reference (evaluateFilter with filterResolver) matches, on random users/groups and random
 * filters. The evaluator sees each resource as the API renders it (service.render: data + id + meta, members,
 * groups). The properties live in test/helpers/filter-differential.ts, shared with the PostgreSQL twin.
 */
import { describeFilterDifferential, openSqliteDirectory } from '../helpers/filter-differential'
import { filterToSql } from '../../src/db/filter-sql'

const dir = openSqliteDirectory()

describeFilterDifferential({ label: '', dir: () => dir, filterToSql })
