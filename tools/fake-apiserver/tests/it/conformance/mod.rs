//! Cases taken from upstream Kubernetes, each naming the test or source it
//! follows, so that a green run means the fake answers as kube-apiserver
//! 1.34 (and kubectl 1.32 with it) does there.

mod apply;
mod fields;
mod kubectl;
mod managed_fields;
mod subresources;
