import type { Command } from 'commander';
import { registerBuild } from './build.js';
import { registerCheckout } from './checkout.js';
import { registerCompletion } from './completion.js';
import { registerFetch } from './fetch.js';
import { registerImage } from './image.js';
import { registerMkfs } from './mkfs.js';
import { registerMkinitramfs } from './mkinitramfs.js';
import { registerMkimage } from './mkimage.js';
import { registerMkuki } from './mkuki.js';
import { registerRemote } from './remote.js';
import { registerShell } from './shell.js';
import { registerShow } from './show.js';
import { registerTrack } from './track.js';

/** Every command family registers itself on the program; one module per family. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerMkfs, registerMkinitramfs, registerMkimage, registerMkuki, registerImage, registerShow, registerBuild, registerShell, registerTrack, registerFetch, registerCheckout, registerRemote, registerCompletion];
