import { freshDatabase, type TestDatabase } from '@pipewright/testing';
import type { DataSource } from 'typeorm';
import { createDataSource, openDatabase, preparedQuery, statementName } from '../src';

describe('preparedQuery (real PostgreSQL)', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await freshDatabase('prepared');
    // One pooled connection: what the pool runs on is the connection the checks look at.
    ds = await openDatabase(createDataSource({ url: db.url, applicationName: 'prepared-spec', poolSize: 1 }));
    await ds.query(`CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)`);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const prepared = async (): Promise<{ name: string; statement: string }[]> => ds.query(`SELECT name, statement FROM pg_prepared_statements ORDER BY name`);

  it('runs a statement prepared once per connection under a name from its text, answering its rows', async () => {
    const insert = `INSERT INTO items (id, name) VALUES ($1, $2) RETURNING id, name`;
    expect(await preparedQuery(ds, insert, [1, 'one'])).toEqual([{ id: 1, name: 'one' }]);
    expect(await preparedQuery(ds.manager, insert, [2, 'two'])).toEqual([{ id: 2, name: 'two' }]);
    const names = await prepared();
    expect(names).toEqual([{ name: statementName(insert), statement: insert }]);
    // An UPDATE answers its RETURNING rows (TypeORM's query() would answer [rows, count]).
    expect(await preparedQuery(ds, `UPDATE items SET name = upper(name) WHERE id = ANY($1::int[]) RETURNING id`, [[1, 2]])).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await preparedQuery(ds, `UPDATE items SET name = name WHERE id = $1 RETURNING id`, [99])).toEqual([]);
  });

  it("runs on the transaction's own connection inside one (its writes seen, its rollback undoing them)", async () => {
    await expect(
      ds.transaction(async (tx) => {
        await preparedQuery(tx, `INSERT INTO items (id, name) VALUES ($1, $2)`, [3, 'three']);
        expect(await preparedQuery(tx, `SELECT name FROM items WHERE id = $1`, [3])).toEqual([{ name: 'three' }]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await preparedQuery(ds, `SELECT name FROM items WHERE id = $1`, [3])).toEqual([]);
  });

  it("runs on a query runner's own connection (its transaction), and refuses a released one", async () => {
    const runner = ds.createQueryRunner();
    await runner.startTransaction();
    await preparedQuery(runner, `INSERT INTO items (id, name) VALUES ($1, $2)`, [4, 'four']);
    expect(await preparedQuery(runner, `SELECT name FROM items WHERE id = $1`, [4])).toEqual([{ name: 'four' }]);
    await runner.rollbackTransaction();
    await runner.release();
    expect(await preparedQuery(ds, `SELECT name FROM items WHERE id = $1`, [4])).toEqual([]);
    await expect(preparedQuery(runner, `SELECT 1`, [])).rejects.toThrow(/released/);
  });

  it('names two texts apart and one text alike', () => {
    expect(statementName('SELECT 1')).toBe(statementName('SELECT 1'));
    expect(statementName('SELECT 1')).not.toBe(statementName('SELECT 2'));
    expect(statementName('SELECT 1')).toMatch(/^pw_[0-9a-f]{24}$/);
  });

  it("passes a statement's error on, with PostgreSQL's code", async () => {
    await expect(preparedQuery(ds, `INSERT INTO items (id, name) VALUES ($1, $2)`, [1, 'again'])).rejects.toMatchObject({ code: '23505' });
  });
});
