// <hooklab-experiment> — placeholder replaced by the embed component (see web/src/embed).
export {};
