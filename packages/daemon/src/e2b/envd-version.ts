/**
 * The envd version Paddock's in-sandbox protocol answers as, in every E2B
 * sandbox description: the SDKs compare it to decide which calls they may
 * make (and refuse a template older than 0.1.0).
 */
export const envdVersion = '0.2.0';
