// The OPC UA part's public face: the collector, browsing and the PKI steps a technician takes. Load it with import() only when an OPC UA device is configured.
export { OpcUaCollector, type OpcUaCollectorOptions, type OpcUaProfile } from './collector.ts'
export { browse, formatVariables, profileSkeleton, type BrowsedVariable, type BrowseOptions, type BrowseResult, type SkeletonOptions } from './browse.ts'
export { rejectedCertificates, trustCertificateFile, trustedCertificates, trustRejected, type CertificateInfo } from './pki.ts'
export { checkSecurity, type SecurityModeName, type SecurityPolicyName } from './session.ts'
