import { looksLikeFat, registerFilesystem } from '../image.js';
import { readFat } from './reader.js';

/** Makes `openImage`/`kiln image` read FAT volumes (imported for its effect by fat/index.ts). */
registerFilesystem({ kind: 'fat', detect: looksLikeFat, open: (source) => readFat(source) });
