import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createWordSearchFunction } from '../src/db/search-function-v2';
import { createLooseSearchFunction } from '../src/db/search-function-v1';

/**
 * Search matches word by word. The first trellis_search let a record match when the whole query was
 * similar to its text (trigram similarity 0.3, word similarity 0.4): with two words, one of them
 * alone passed, so "northwind robotcs" matched 25 000 of a million deals ("Northwind Systems", "Acme
 * Robotics"), each scored, in 3 s. Now every word of three letters or more must be in the text, or
 * close to a word of it (word similarity 0.4: one typo in a name), or the text must hold every word
 * (full text); the trigram index answers each word, and only the records that hold them all are
 * scored. The score is unchanged. The words are known only at run time, so the statement is built
 * with them as literals (format %L) and planned for them.
 */
export class SearchWords1765411200000 implements MigrationInterface {
  name = 'SearchWords1765411200000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`DROP FUNCTION trellis_search(text, text[], int)`);
    await createWordSearchFunction(qr);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`DROP FUNCTION trellis_search(text, text[], int)`);
    await createLooseSearchFunction(qr);
  }
}
