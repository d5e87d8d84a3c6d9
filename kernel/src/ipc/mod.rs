//! System V IPC shared by the processes of the image (one IPC namespace): shared
//! memory segments (`shm`) and semaphore sets (`sem`).

pub mod sem;
pub mod shm;
