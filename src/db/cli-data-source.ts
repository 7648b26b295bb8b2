/**
 * The DataSource for the TypeORM CLI (`npx typeorm-ts-node-commonjs -d src/db/cli-data-source.ts ...`),
 * built from the same options the application uses.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL must be set for the TypeORM CLI');

export default new DataSource(dataSourceOptions(url));
