// The lab page (built out in web/src/app).
export {};
